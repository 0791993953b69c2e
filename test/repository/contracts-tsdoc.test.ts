import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * contracts/ is what every part of Bulkhead agrees on (README, "Layout"), so each of its
 * exports says what it is and where it is used: every exported const, function, class, type,
 * interface and enum carries a TSDoc comment, and so does every member of an exported
 * interface. An `export { ... }` list of names declared elsewhere carries one too (why they
 * are exported again here).
 */
const root = path.join(__dirname, '..', '..');
const contracts = path.join(root, 'contracts');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** A TSDoc comment with text (a bare tag list or an empty comment is not documentation). */
function hasTsDoc(node: ts.Node): boolean {
  return ts.getJSDocCommentsAndTags(node).some((doc) => {
    if (!ts.isJSDoc(doc)) return false;
    const text = typeof doc.comment === 'string' ? doc.comment : ts.getTextOfJSDocComment(doc.comment);
    return (text ?? '').trim().length > 0;
  });
}

/** A `/** ... *\/` comment right before the node (for statements the JSDoc parser does not attach to). */
function hasLeadingDocComment(node: ts.Node, text: string): boolean {
  return (ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []).some(
    (range) => range.kind === ts.SyntaxKind.MultiLineCommentTrivia && text.startsWith('/**', range.pos),
  );
}

function isExported(node: ts.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** The exports (and exported interfaces' members) of a source text that have no TSDoc, as `file:line name`. */
function undocumentedExports(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const missing: string[] = [];
  const report = (node: ts.Node, name: string) => {
    const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    missing.push(`${fileName}:${line} ${name}`);
  };
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      if (!hasLeadingDocComment(statement, text)) report(statement, statement.getText(source).split('\n')[0] ?? '');
      continue;
    }
    if (ts.isExportAssignment(statement)) {
      if (!hasLeadingDocComment(statement, text)) report(statement, 'export default');
      continue;
    }
    if (!isExported(statement)) continue;
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (!hasTsDoc(declaration)) report(declaration, declaration.name.getText(source));
      }
      continue;
    }
    if (
      ts.isFunctionDeclaration(statement) ||
      ts.isClassDeclaration(statement) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isEnumDeclaration(statement)
    ) {
      const name = statement.name?.getText(source) ?? '(anonymous)';
      if (!hasTsDoc(statement)) report(statement, name);
      if (ts.isInterfaceDeclaration(statement)) {
        for (const member of statement.members) {
          if (!hasTsDoc(member)) report(member, `${name}.${member.name?.getText(source) ?? '(index signature)'}`);
        }
      }
      continue;
    }
    report(statement, ts.SyntaxKind[statement.kind]);
  }
  return missing;
}

describe('contracts/ is documented', () => {
  it('every export of contracts/, and every member of an exported interface, has TSDoc', () => {
    // Prepare
    const files = tsFiles(contracts);

    // Act
    const missing = files.flatMap((file) => undocumentedExports(path.relative(root, file), readFileSync(file, 'utf8')));

    // Assess
    expect(files.length).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });

  it('the check names each undocumented export and member, and passes documented ones', () => {
    // Prepare
    const text = [
      "import { A } from './a';",
      '/** Documented. */',
      'export const documented = 1;',
      '// A line comment is not TSDoc.',
      'export const lineCommented = 2;',
      '/** */',
      'export function emptyDoc(): void {}',
      'export type Bare = string;',
      '/** An interface. */',
      'export interface Shape {',
      '  /** Documented field. */',
      '  readonly a: string;',
      '  readonly b: number;',
      '}',
      'export { A };',
      '/** Exported again for the console. */',
      'export { A as B };',
      'const internal = 3;',
      'export default internal;',
    ].join('\n');

    // Act
    const missing = undocumentedExports('x.ts', text);

    // Assess
    expect(missing).toEqual([
      'x.ts:5 lineCommented',
      'x.ts:7 emptyDoc',
      'x.ts:8 Bare',
      'x.ts:13 Shape.b',
      'x.ts:15 export { A };',
      'x.ts:19 export default',
    ]);
  });
});
