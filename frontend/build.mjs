// Builds the editor bundle shipped in the Python package: `npm ci && npm run build` (run from frontend/).
import {build} from "esbuild";

await build({
  entryPoints: ["src/editor.js"],
  bundle: true,
  minify: true,
  format: "iife",
  globalName: "ArchspecEditor",
  target: ["es2020"],
  legalComments: "eof",
  outfile: "../archspec/serve/static/editor.js",
});
