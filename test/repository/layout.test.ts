import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The folders' arrows (README, "Layout"): tools → infra → contracts, runtime → contracts.
 * ESLint's `no-restricted-imports` (eslint.config.mjs) enforces them; these cases show it
 * refuses each wrong arrow and lets each right one through, on text linted as if it were in
 * that folder.
 */
const eslint = new ESLint();

async function refusals(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: file });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: readonly { file: string; source: string; refused: RegExp | undefined }[] = [
  {
    file: 'runtime/contain/x.ts',
    source: "import { a } from '../../infra/shared/tags';\nexport { a };\n",
    refused: /runtime\//,
  },
  { file: 'runtime/contain/x.ts', source: "import { Stack } from 'aws-cdk-lib';\nexport { Stack };\n", refused: /CDK/ },
  {
    file: 'runtime/contain/x.ts',
    source: "import { a } from '../../tools/cli/format';\nexport { a };\n",
    refused: /runtime\//,
  },
  {
    file: 'runtime/contain/x.ts',
    source: "import { a } from '../../contracts/names';\nexport { a };\n",
    refused: undefined,
  },
  { file: 'runtime/contain/x.ts', source: "import { a } from '../shared/env';\nexport { a };\n", refused: undefined },
  {
    file: 'infra/site/x.ts',
    source: "import { a } from '../../runtime/contain/events';\nexport { a };\n",
    refused: /infra\//,
  },
  {
    file: 'infra/site/x.ts',
    source: "import { a } from '../../contracts/names';\nexport { a };\n",
    refused: undefined,
  },
  {
    file: 'tools/cli/x.ts',
    source: "import { a } from '../../runtime/coverage/coverage';\nexport { a };\n",
    refused: /tools\//,
  },
  {
    file: 'tools/cli/x.ts',
    source: "import { a } from '../../infra/config/load-fleet';\nexport { a };\n",
    refused: undefined,
  },
  {
    file: 'contracts/x.ts',
    source: "import { a } from '../infra/shared/tags';\nexport { a };\n",
    refused: /contracts\//,
  },
  { file: 'contracts/x.ts', source: "import { Fn } from 'aws-cdk-lib';\nexport { Fn };\n", refused: /CDK/ },
  { file: 'contracts/x.ts', source: "import { a } from './ids';\nexport { a };\n", refused: undefined },
  {
    file: 'bench/x/run.ts',
    source: "import { a } from '../../test/support/storm';\nexport { a };\n",
    refused: /test kit/,
  },
  { file: 'bench/x/run.ts', source: "import { a } from '../../test/kit';\nexport { a };\n", refused: undefined },
];

describe('the layout’s import arrows', () => {
  it.each(cases)('$file: $source', async ({ file, source, refused }) => {
    // Act
    const messages = await refusals(file, source);
    // Assess
    if (refused) expect(messages.join('\n')).toMatch(refused);
    else expect(messages).toEqual([]);
  });
});
