// The shop's static server: the pages in tests/browser/site, the vendored npm packages under
// /vendor/ (straight from target/browser-node/node_modules) and /config.js with the project's
// client-side key. The same handler is served on the trusted origin and on the untrusted ones.
// Standalone: SHOP_CONFIG='{"apiUrl":…}' node tests/browser/static.cjs PORT NODE_MODULES
const http = require("node:http");
const fs = require("node:fs");
const path = require("node:path");

const SITE = path.join(__dirname, "site");
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".map": "application/json",
};

/** A file under `root` for the URL path `rel`, or null (no escaping the root). */
function inside(root, rel) {
  const file = path.resolve(root, "." + path.posix.normalize("/" + decodeURIComponent(rel)));
  return file.startsWith(root + path.sep) ? file : null;
}

function handler(nodeModules, config, log) {
  const vendorRoot = path.resolve(nodeModules);
  return (req, res) => {
    const url = new URL(req.url, "http://shop");
    let file = null;
    if (url.pathname === "/config.js") {
      res.writeHead(200, { "Content-Type": TYPES[".js"], "Cache-Control": "no-store" });
      res.end(`window.SHOP_CONFIG = ${JSON.stringify(config)};\n`);
      return;
    } else if (url.pathname.startsWith("/vendor/")) {
      file = inside(vendorRoot, url.pathname.slice("/vendor/".length));
    } else {
      file = inside(SITE, url.pathname === "/" ? "index.html" : url.pathname.slice(1));
    }
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      if (log) log(`static: 404 ${req.headers.host}${req.url}`);
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("not found\n");
      return;
    }
    res.writeHead(200, {
      "Content-Type": TYPES[path.extname(file)] || "application/octet-stream",
      "Cache-Control": "no-store",
    });
    fs.createReadStream(file).pipe(res);
  };
}

/** Listens on 127.0.0.1:port; resolves to the http.Server. */
function serve(port, nodeModules, config, log) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler(nodeModules, config, log));
    server.keepAliveTimeout = 1000;
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

module.exports = { serve };

if (require.main === module) {
  const [port, nodeModules] = process.argv.slice(2);
  serve(Number(port), nodeModules, JSON.parse(process.env.SHOP_CONFIG || "{}"), console.log).then(() =>
    console.log(`shop on http://127.0.0.1:${port}/`),
  );
}
