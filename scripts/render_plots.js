// Renders every plot of a `dvc plots` HTML page headless, with the page's own inlined vega scripts:
// proof that the page works offline. Usage: node scripts/render_plots.js index.html -> JSON per plot.
const fs = require('fs');
const vm = require('vm');
const html = fs.readFileSync(process.argv[2], 'utf8');
const body = html.lastIndexOf('</head><body>');
const head = html.slice(0, body), plots = html.slice(body);
const scripts = [...head.matchAll(/<script>\n([\s\S]*?)\n<\/script>/g)].map(m => m[1]);
const context = vm.createContext({console, setTimeout, clearTimeout, setInterval, clearInterval, performance,
                                  queueMicrotask, URL, TextEncoder, TextDecoder,
                                  structuredClone, fetch: undefined});
context.self = context.window = context;
context.addEventListener = context.removeEventListener = () => {};  // no DOM events headless
for (const code of scripts) vm.runInContext(code, context);
const {vega, vegaLite, vegaEmbed} = context;
if (!vega || !vegaLite || typeof vegaEmbed !== 'function') throw new Error('the inlined libraries did not load');
const specs = [...plots.matchAll(/var spec = (\{.*\});\n/g)].map(m => JSON.parse(m[1]));
(async () => {
  const out = [];
  for (const spec of specs) {
    const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), {renderer: 'none'});
    const svg = await view.toSVG();
    out.push({title: spec.title.text, rows: spec.data.values.length, svg_bytes: svg.length,
              marks: (svg.match(/<path|<line|<rect/g) || []).length});
  }
  console.log(JSON.stringify(out));
})().catch(error => { console.error(String(error)); process.exit(1); });
