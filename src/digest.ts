// The digest that tells two copies of a file apart (the master's switch
// spec and QoS defaults against a node's).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}
