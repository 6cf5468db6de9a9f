/**
 * TypeScript input at the prompt → JavaScript for node's REPL: types stripped with TypeScript's
 * `transpileModule` (in-process; typescript is loaded lazily, on first use), static `import`s
 * rewritten to `await import()`, `export` dropped. Incomplete input (an open brace, a missing
 * `)`) is reported as {@link IncompleteInput} so the REPL asks for more lines.
 * @module
 */
import type * as TS from 'typescript';
import { typescript, type TypeScript } from '../loader/typescript.js';

/** The input ends before a statement does: the REPL should read another line. */
export class IncompleteInput extends Error {
  override name = 'IncompleteInput';
}

/** A syntax error in prompt input, with line and column (1-based) in the input. */
export class InputSyntaxError extends SyntaxError {
  override name = 'SyntaxError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

function compile(ts: TypeScript, input: string): TS.TranspileOutput {
  return ts.transpileModule(input, {
    fileName: 'prompt.ts',
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      sourceMap: false,
      removeComments: false,
    },
  });
}

// Diagnostics that mean "the statement goes on": unterminated template literal, comment.
const openEnded = new Set([1160, 1010, 1161]);

/**
 * Transpiles one REPL input (possibly several lines) to JavaScript.
 * @throws IncompleteInput when more lines are needed; InputSyntaxError for a syntax error.
 */
export function transpile(input: string, resolveSpecifier?: (specifier: string) => string | undefined): string {
  const ts = typescript();
  let out: TS.TranspileOutput | undefined;
  // `{ a: 1 }` is an object, not a block (as in node's REPL).
  if (/^\s*\{/.test(input) && !/;\s*$/.test(input)) {
    const wrapped = compile(ts, `(${input.trim()})`);
    if (!wrapped.diagnostics?.length) out = wrapped;
  }
  out ??= compile(ts, input);
  const diagnostics = out.diagnostics ?? [];
  if (diagnostics.length) {
    const end = input.trimEnd().length;
    const d = diagnostics[0]!;
    if (diagnostics.some((x) => (x.start ?? 0) >= end || openEnded.has(x.code)))
      throw new IncompleteInput('more input needed');
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const { line, character } = ts.getLineAndCharacterOfPosition(
      ts.createSourceFile('prompt.ts', input, ts.ScriptTarget.ES2022),
      d.start ?? 0,
    );
    throw new InputSyntaxError(message, line + 1, character + 1);
  }
  return rewriteModuleSyntax(ts, out.outputText, resolveSpecifier);
}

function rewriteModuleSyntax(
  ts: TypeScript,
  js: string,
  resolveSpecifier?: (specifier: string) => string | undefined,
): string {
  if (!/\b(?:import|export)\b/.test(js)) return js;
  const specifier = (node: TS.Expression) => {
    const text = ts.isStringLiteral(node) ? node.text : undefined;
    const mapped = text === undefined ? undefined : resolveSpecifier?.(text);
    return mapped === undefined ? node.getText(file) : JSON.stringify(mapped);
  };
  const file = ts.createSourceFile('prompt.js', js, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement)) {
      const from = `await import(${specifier(statement.moduleSpecifier)})`;
      const clause = statement.importClause;
      let text: string;
      if (!clause) text = `${from};`;
      else {
        const parts: string[] = [];
        if (clause.name) parts.push(`default: ${clause.name.text}`);
        const bindings = clause.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) {
          text = clause.name
            ? `const ${bindings.name.text} = ${from}, ${clause.name.text} = ${bindings.name.text}.default;`
            : `const ${bindings.name.text} = ${from};`;
          edits.push({ start: statement.getStart(file), end: statement.end, text });
          continue;
        }
        if (bindings && ts.isNamedImports(bindings))
          for (const e of bindings.elements)
            parts.push(e.propertyName ? `${e.propertyName.getText(file)}: ${e.name.text}` : e.name.text);
        text = parts.length ? `const { ${parts.join(', ')} } = ${from};` : `${from};`;
      }
      edits.push({ start: statement.getStart(file), end: statement.end, text });
    } else if (ts.isExportDeclaration(statement)) {
      // `export {}` (added by TypeScript) and `export { x }`: nothing to do at the prompt.
      edits.push({ start: statement.getStart(file), end: statement.end, text: '' });
    } else if (ts.isExportAssignment(statement)) {
      edits.push({ start: statement.getStart(file), end: statement.expression.getStart(file), text: '' });
    } else if (ts.canHaveModifiers(statement)) {
      for (const m of ts.getModifiers(statement) ?? []) {
        if (m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DefaultKeyword)
          edits.push({ start: m.getStart(file), end: m.end, text: '' });
      }
    }
  }
  // import('…') calls
  const visit = (node: TS.Node): void => {
    if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      const arg = node.arguments[0];
      const mapped = resolveSpecifier?.(arg.text);
      if (mapped !== undefined) edits.push({ start: arg.getStart(file), end: arg.end, text: JSON.stringify(mapped) });
    }
    ts.forEachChild(node, visit);
  };
  for (const statement of file.statements) if (!ts.isImportDeclaration(statement)) visit(statement);
  let result = js;
  for (const e of edits.sort((a, b) => b.start - a.start))
    result = result.slice(0, e.start) + e.text + result.slice(e.end);
  return result;
}
