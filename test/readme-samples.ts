// The code samples of README.md, as a reader would copy them: every ```ts block is a
// whole program, and every `npx wasm-reactor …` line of a ```sh block is a command to run.
// (The first block's npm install/start/test are what CI itself runs.)
import { readFileSync } from "node:fs";
import path from "node:path";

export function readmeBlocks(root: string, language: "ts" | "js" | "sh", file = "README.md"): string[] {
  const text = readFileSync(path.join(root, file), "utf8");
  return [...text.matchAll(new RegExp("^```" + language + "\\n([\\s\\S]*?)^```", "gm"))].map((m) => m[1]);
}

/** The wasm-reactor commands of the README's shell blocks, in order, without npx and comments. */
export function readmeCommands(root: string): string[][] {
  return readmeBlocks(root, "sh").flatMap((block) => block.split("\n"))
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line.startsWith("npx wasm-reactor "))
    .map((line) => line.split(/\s+/).slice(2));
}
