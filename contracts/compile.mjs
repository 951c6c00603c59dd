// Compiles the hearth contracts with the pinned solc-js and writes (or checks) artifacts/<Name>.json.
//
//   node compile.mjs                 compile src/ and write artifacts/
//   node compile.mjs --check         compile in memory, exit 1 if any committed artifact is stale or missing
//   node compile.mjs --src DIR       read the hearth sources from DIR instead of src/
//   node compile.mjs --out DIR       artifacts directory (default artifacts/)
//
// Exit codes: 0 ok, 1 stale artifacts (--check), 2 compile error, 64 bad usage.
// Source unit names are relative ("src/X.sol", "@openzeppelin/contracts/...") so that the output
// (including the metadata hash in the bytecode) is the same on every machine.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const ROOT = dirname(fileURLToPath(import.meta.url));
const CONTRACTS = [
  "ServerRegistry",
  "AppRegistry",
  "DataRegistry",
  "PermissionRegistry",
  "AuditLog",
  // Collective mode: deployed per collective (`deploy_collective`), never at the embedded genesis.
  "MembershipToken",
  "CollectiveTimelock",
  "CollectiveGovernor",
  "CodeRegistry",
  "LivenessRegistry",
];
// Warnings that are expected and not worth printing: the public ABI of DataRegistry names a parameter
// `sha256` (bound by name on the Rust side), which shadows the builtin of that name; OpenZeppelin's
// Checkpoints and DoubleEndedQueue (used by the governor and the votes token) name a function `at`, which
// solc warns will become a keyword.
const KNOWN_WARNINGS = [
  { errorCode: "2319", file: "src/DataRegistry.sol" },
  { errorCode: "6335", file: "@openzeppelin/contracts/utils/structs/Checkpoints.sol" },
  { errorCode: "6335", file: "@openzeppelin/contracts/utils/structs/DoubleEndedQueue.sol" },
];
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
};

function usage(message) {
  console.error(`${message}\nusage: node compile.mjs [--check] [--src DIR] [--out DIR]`);
  process.exit(64);
}

function parseArgs(argv) {
  const opts = { check: false, src: join(ROOT, "src"), out: join(ROOT, "artifacts") };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--check") {
      opts.check = true;
    } else if (arg === "--src" || arg === "--out") {
      const value = argv[++i];
      if (!value) usage(`${arg} needs a directory`);
      opts[arg.slice(2)] = resolve(value);
    } else {
      usage(`unknown argument: ${arg}`);
    }
  }
  return opts;
}

// "0.8.37+commit.abcdef12.Emscripten.clang" -> "0.8.37+commit.abcdef12" (the form solc puts in metadata).
function compilerVersion() {
  const full = solc.version();
  const match = /^\d+\.\d+\.\d+\+commit\.[0-9a-f]+/.exec(full);
  return match ? match[0] : full;
}

function sha256Hex(data) {
  return createHash("sha256").update(data).digest("hex");
}

function compile(srcDir) {
  const sources = {};
  const raw = {};
  for (const file of readdirSync(srcDir).filter((f) => f.endsWith(".sol")).sort()) {
    const bytes = readFileSync(join(srcDir, file));
    raw[file] = bytes;
    sources[`src/${file}`] = { content: bytes.toString("utf8") };
  }

  const outputSelection = {};
  for (const name of CONTRACTS) {
    outputSelection[`src/${name}.sol`] = {
      [name]: ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"],
    };
  }
  const input = { language: "Solidity", sources, settings: { ...SETTINGS, outputSelection } };

  // Only library imports are resolved from disk; hearth sources are all passed in `sources`.
  const findImports = (path) => {
    if (!path.startsWith("@openzeppelin/contracts/") || path.includes("..")) {
      return { error: `import not found: ${path}` };
    }
    try {
      return { contents: readFileSync(join(ROOT, "node_modules", path), "utf8") };
    } catch {
      return { error: `import not found: ${path} (run: npm --prefix contracts install)` };
    }
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const diagnostics = output.errors ?? [];
  const errors = diagnostics.filter((e) => e.severity === "error");
  const known = (e) =>
    KNOWN_WARNINGS.some((k) => k.errorCode === e.errorCode && k.file === e.sourceLocation?.file);
  for (const e of diagnostics) {
    if (e.severity !== "error" && !known(e)) process.stderr.write(e.formattedMessage ?? e.message);
  }
  if (errors.length > 0) {
    for (const e of errors) process.stderr.write(`${e.formattedMessage ?? e.message}\n`);
    process.exit(2);
  }

  const compiler = compilerVersion();
  const artifacts = {};
  for (const name of CONTRACTS) {
    const file = `${name}.sol`;
    const contract = output.contracts?.[`src/${file}`]?.[name];
    if (!contract || raw[file] === undefined) {
      process.stderr.write(`error: contract ${name} not found in src/${file}\n`);
      process.exit(2);
    }
    const artifact = {
      contractName: name,
      compiler,
      sourceSha256: sha256Hex(raw[file]),
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
      deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
    };
    artifacts[name] = `${JSON.stringify(artifact, null, 2)}\n`;
  }
  return artifacts;
}

const opts = parseArgs(process.argv.slice(2));
const artifacts = compile(opts.src);

if (opts.check) {
  let stale = 0;
  for (const name of CONTRACTS) {
    const path = join(opts.out, `${name}.json`);
    const current = existsSync(path) ? readFileSync(path, "utf8") : null;
    if (current !== artifacts[name]) {
      console.log(`stale artifact: ${name} (run: npm --prefix contracts run compile)`);
      stale++;
    }
  }
  if (stale > 0) process.exit(1);
  console.log("artifacts up to date");
} else {
  mkdirSync(opts.out, { recursive: true });
  for (const name of CONTRACTS) {
    writeFileSync(join(opts.out, `${name}.json`), artifacts[name]);
  }
  console.log(`wrote ${CONTRACTS.length} artifacts (solc ${compilerVersion()})`);
}
