// The AssemblyScript transform `wasm-reactor build` runs (asc --transform): it meters the
// user's own code for the CPU budget (assembly/fuel.ts) by opening every loop body and
// every function body of the user's files with a call to __wr_fuel(). The core, the SDK
// and the standard library (files under ~lib/) are left alone. It runs on the parsed
// AST, so the compiler's own checks and optimizations apply to what it inserts.
import { Node, NodeKind, SourceKind, type Parser, type Range, type Statement } from "assemblyscript";
import { Transform } from "assemblyscript/transform";

const LOOPS = new Set<number>([NodeKind.While, NodeKind.Do, NodeKind.For, NodeKind.ForOf]);
const FUNCTIONS = new Set<number>([NodeKind.FunctionDeclaration, NodeKind.MethodDeclaration]);

type AnyNode = { kind: number; range: Range; [field: string]: unknown };

function fuelCall(range: Range): Statement {
  return Node.createExpressionStatement(Node.createCallExpression(Node.createIdentifierExpression("__wr_fuel", range), null, [], range));
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === "object" && value !== null && typeof (value as AnyNode).kind === "number" && "range" in value;
}

/** Every node below `node` (fields and arrays of fields; not `range`, which points back at the source). */
function meter(node: AnyNode, seen: Set<object>): void {
  if (seen.has(node)) return;
  seen.add(node);
  for (const [field, value] of Object.entries(node)) {
    if (field === "range") continue;
    if (Array.isArray(value)) for (const item of value) if (isNode(item)) meter(item, seen);
    if (isNode(value)) meter(value, seen);
  }
  if (LOOPS.has(node.kind)) {
    const body = node.body as Statement;
    node.body = Node.createBlockStatement([fuelCall(node.range), body], body.range);
  } else if (FUNCTIONS.has(node.kind)) {
    const body = node.body as AnyNode | null;
    const name = (node.name as { text?: string } | undefined)?.text;
    // A constructor may have to call super() first; its loops are metered all the same.
    if (body?.kind === NodeKind.Block && name !== "constructor") (body.statements as Statement[]).unshift(fuelCall(node.range));
  }
}

export default class FuelTransform extends Transform {
  afterParse(parser: Parser): void {
    // Without the core (a file that does not export the door), there is no __wr_fuel to
    // call: nothing is metered, and the build refuses the module with its own reason.
    if (!parser.sources.some((source) => source.normalizedPath.endsWith("wasm-reactor/assembly/fuel.ts"))) return;
    const seen = new Set<object>();
    for (const source of parser.sources) {
      const own = source.sourceKind === SourceKind.User || source.sourceKind === SourceKind.UserEntry;
      if (own && !source.normalizedPath.startsWith("~lib/")) meter(source as unknown as AnyNode, seen);
    }
  }
}
