"""What ships: GGUF conversion and quantisation, the Ollama Modelfile, and llama.cpp chat (gguf.py)."""
