"""The HTTP server (server.py): /ping, /invocations (SageMaker) and /v1/chat/completions (OpenAI)."""
