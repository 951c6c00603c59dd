// Builds AuditCheck.bin from AuditCheck.sol with the solc and OpenZeppelin pinned in contracts/.
//
//   node crates/hearth-server/src/audit/testdata/build.mjs     (from the repository root, after
//                                                             `npm --prefix contracts install`)
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const CONTRACTS = join(HERE, "../../../../../contracts");
const require = createRequire(join(CONTRACTS, "package.json"));
const solc = require("solc");

const input = {
  language: "Solidity",
  sources: { "AuditCheck.sol": { content: readFileSync(join(HERE, "AuditCheck.sol"), "utf8") } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    metadata: { bytecodeHash: "none" },
    outputSelection: { "AuditCheck.sol": { AuditCheck: ["evm.bytecode.object"] } },
  },
};
const findImports = (path) => {
  if (!path.startsWith("@openzeppelin/contracts/") || path.includes("..")) return { error: `not found: ${path}` };
  return { contents: readFileSync(join(CONTRACTS, "node_modules", path), "utf8") };
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(2);
}
writeFileSync(join(HERE, "AuditCheck.bin"), output.contracts["AuditCheck.sol"].AuditCheck.evm.bytecode.object + "\n");
