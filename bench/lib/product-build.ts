// Programs compiled exactly as the product is, and the runtime floor: an
// empty program built that way, what Bun costs before any of our code.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");

/** The bun executable: this process when it runs on Bun, else the devDependency. */
export function bunExecutable(): string {
  return process.versions.bun ? process.execPath : join(ROOT, "node_modules", ".bin", "bun");
}

/** The product's `bun build` flags, read from package.json's build script so they cannot drift. */
export function productBuildFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const words = pkg.scripts.build!.split(/\s+/);
  const flags: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] === "--outfile") i++;
    else if (words[i]!.startsWith("--")) flags.push(words[i]!);
  }
  if (!flags.includes("--compile")) throw new Error(`package.json build script has no --compile: ${pkg.scripts.build}`);
  return flags;
}

/** Compiles ENTRY as the product is compiled. */
export function compileAsProduct(entry: string, outfile: string): void {
  const r = spawnSync(bunExecutable(), ["build", ...productBuildFlags(), entry, "--outfile", outfile], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`bun build ${entry} failed: ${(r.stderr || r.stdout || r.error?.message || "").trim()}`);
}

/** An empty program (no statements) compiled as the product: what Bun costs before any of our code. */
export function buildFloor(dir: string): string {
  const src = join(dir, "floor-empty.ts");
  writeFileSync(src, "");
  const out = join(dir, "floor-empty");
  compileAsProduct(src, out);
  return out;
}
