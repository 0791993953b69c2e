/**
 * The audit as one self-contained HTML page: inline CSS, no script, no external asset.
 * Every string that comes from a template (site ids, rule descriptions, names) is escaped.
 */
import { escapeHtml } from '../../contracts/display';
import { describeProvenance } from '../../infra/shared/provenance';
import type { AuditResult, Finding, PairVerdict, PathKind, SelfAssessmentAnswer } from './types';
import { answeredWell, PATH_KINDS } from './types';

/** How many findings the page lists in full (the matrix still shows every pair). */
const LISTED_FINDINGS = 400;

/**
 * Template strings are escaped for HTML and also made inert as text (contracts/display.ts): line
 * breaks, terminal and bidirectional controls shown as escapes, very long values cut.
 */
export { escapeHtml };

const KIND_LABEL: Record<PathKind, string> = {
  network: 'Network',
  iam: 'IAM',
  database: 'Database',
  storage: 'Storage',
};

/** Cell size and header font by fleet size, so 3 and 300 sites both read. */
function gridScale(n: number): { cell: number; font: number; showCounts: boolean } {
  if (n <= 12) return { cell: 44, font: 13, showCounts: true };
  if (n <= 40) return { cell: 24, font: 11, showCounts: true };
  if (n <= 120) return { cell: 14, font: 9, showCounts: false };
  return { cell: 10, font: 8, showCounts: false };
}

const CSS = `
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--ok:#22c55e;--ok-soft:#dcfce7;--bad:#ef4444;--bad-soft:#fee2e2;--bad-ink:#991b1b;--ok-ink:#166534;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
header.top{background:linear-gradient(135deg,#0f172a 0%,#1e293b 60%,#334155 100%);color:#fff;padding:28px 40px 30px}
.brand{letter-spacing:.14em;text-transform:uppercase;font-size:12px;color:#94a3b8;font-weight:600}
header h1{margin:6px 0 14px;font-size:28px;font-weight:700}
header h1 .env{color:#93c5fd}
.verdict{display:inline-flex;align-items:center;gap:10px;padding:8px 16px;border-radius:999px;font-weight:700;font-size:16px}
.verdict.pass{background:rgba(34,197,94,.18);color:#86efac;border:1px solid rgba(134,239,172,.5)}
.verdict.fail{background:rgba(239,68,68,.2);color:#fecaca;border:1px solid rgba(254,202,202,.5)}
.meta{margin-top:12px;color:#94a3b8;font-size:12px;word-break:break-all}
main{padding:24px 40px 48px;max-width:1600px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:16px;margin:-44px 0 28px}
.card{background:var(--card);border-radius:14px;padding:16px 20px;box-shadow:0 1px 2px rgba(15,23,42,.06),0 8px 24px rgba(15,23,42,.08)}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.08em;font-weight:600}
.card .value{font-size:32px;font-weight:800;line-height:1.2;margin-top:4px}
.card .sub{color:var(--muted);font-size:12px}
.card .value.good{color:var(--ok-ink)}.card .value.bad{color:var(--bad-ink)}
.score{display:flex;align-items:center;gap:16px}
.ring{--p:0;width:72px;height:72px;border-radius:50%;background:conic-gradient(var(--ring) calc(var(--p)*1%),#e2e8f0 0);display:grid;place-items:center;flex:none}
.ring::after{content:"";width:54px;height:54px;border-radius:50%;background:#fff;grid-area:1/1}
.ring span{grid-area:1/1;z-index:1;font-weight:800;font-size:15px}
section{background:var(--card);border-radius:14px;padding:20px 24px;margin-bottom:24px;box-shadow:0 1px 2px rgba(15,23,42,.06)}
h2{font-size:18px;margin:0 0 4px}
.hint{color:var(--muted);margin:0 0 14px;font-size:13px}
.legend{display:flex;flex-wrap:wrap;gap:16px;margin:0 0 12px;font-size:12px;color:var(--muted)}
.legend i{display:inline-block;width:14px;height:14px;border-radius:3px;vertical-align:-3px;margin-right:6px}
.matrix-wrap{display:inline-block;max-width:100%;vertical-align:top;overflow:auto;max-height:78vh;border:1px solid var(--line);border-radius:10px;background:#fff}
table.matrix{border-collapse:separate;border-spacing:2px;margin:0}
table.matrix th{background:#fff;font-weight:600;color:#334155;white-space:nowrap}
table.matrix thead th{position:sticky;top:0;z-index:2;vertical-align:bottom;padding:6px 0}
table.matrix thead th.col span{writing-mode:vertical-rl;transform:rotate(180deg);display:inline-block;max-height:160px;overflow:hidden;text-overflow:ellipsis}
table.matrix tbody th{position:sticky;left:0;z-index:1;text-align:right;padding:0 8px 0 10px;max-width:220px;overflow:hidden;text-overflow:ellipsis}
table.matrix thead th.corner{left:0;z-index:3;text-align:right;padding:6px 8px;color:var(--muted);font-weight:500;font-size:11px}
table.matrix td{border-radius:3px;padding:0;text-align:center;font-weight:700;color:#fff}
table.matrix td.ok{background:var(--ok)}
table.matrix td.bad{background:var(--bad)}
table.matrix td.bad a{color:#fff;text-decoration:none;display:block;width:100%;height:100%}
table.matrix td.self{background:repeating-linear-gradient(45deg,#cbd5e1 0 3px,#f1f5f9 3px 6px)}
table.matrix th.hot{color:var(--bad-ink)}
table.matrix tbody th.hot::before{content:"● ";color:var(--bad)}
table.matrix tbody tr:hover th{color:#2563eb}
table.matrix td:hover{outline:2px solid var(--ink);outline-offset:0}
.findings article{border:1px solid var(--line);border-left:4px solid var(--bad);border-radius:10px;padding:12px 16px;margin:0 0 12px;background:#fff}
.findings article:target{box-shadow:0 0 0 3px #fca5a5}
.findings h3{margin:0 0 6px;font-size:15px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
.pill{display:inline-block;padding:1px 9px;border-radius:999px;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.06em}
.pill.network{background:#dbeafe;color:#1e40af}.pill.iam{background:#fef3c7;color:#92400e}
.pill.database{background:#ede9fe;color:#5b21b6}.pill.storage{background:#fce7f3;color:#9d174d}
.findings ul.rules{margin:6px 0 0;padding:0;list-style:none}
.findings ul.rules li{padding:6px 10px;background:#f8fafc;border-radius:6px;margin-top:4px;word-break:break-word}
.findings ul.rules .where{color:#475569;font-weight:600}
.allclear{display:flex;gap:14px;align-items:center;padding:16px;border-radius:10px;background:var(--ok-soft);color:var(--ok-ink);font-weight:600}
.allclear .big{font-size:28px}
.questions{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px;align-items:start}
.q{border:1px solid var(--line);border-radius:12px;padding:14px 16px;background:#fff;display:flex;gap:14px}
.q .num{flex:none;width:32px;height:32px;border-radius:50%;display:grid;place-items:center;font-weight:800;color:#fff}
.q.yes .num{background:var(--ok)}.q.no .num{background:var(--bad)}
.q.no{border-color:#fecaca;background:#fffafa}
.q h3{margin:0;font-size:14px;display:flex;justify-content:space-between;gap:10px}
.badge{flex:none;font-size:11px;font-weight:800;padding:2px 10px;border-radius:999px;height:20px;line-height:16px}
.q.yes .badge{background:var(--ok-soft);color:var(--ok-ink)}.q.no .badge{background:var(--bad-soft);color:var(--bad-ink)}
.q details{margin-top:6px}.q summary{cursor:pointer;color:var(--muted);font-size:12px}
.q ul{margin:6px 0 0;padding-left:18px;font-size:12.5px;color:#334155}
.q li{margin:3px 0;word-break:break-word}.q li.miss{color:var(--bad-ink);font-weight:600}
.q .body{min-width:0;flex:1}
footer{color:var(--muted);font-size:12px;padding:0 40px 32px}
`;

function pairAnchor(i: number, j: number): string {
  return `pair-${i}-${j}`;
}

/** A cell's tooltip, already escaped: one line per path (`&#10;` is a line break inside an attribute). */
function cellTitle(from: string, to: string, findings: readonly Finding[]): string {
  if (findings.length === 0) return escapeHtml(`${from} → ${to}: no path`);
  return [
    escapeHtml(`${from} → ${to}: ${findings.length} path${findings.length === 1 ? '' : 's'}`),
    ...findings.map((f) => escapeHtml(`• ${KIND_LABEL[f.kind]}: ${f.summary}`)),
  ].join('&#10;');
}

function renderMatrix(result: AuditResult): string {
  const sites = result.sites;
  const n = sites.length;
  if (n === 0) return '<p class="hint">No site stack in the assembly.</p>';
  const { cell, font, showCounts } = gridScale(n);
  const verdicts = new Map<string, PairVerdict>(result.pairs.map((p) => [`${p.from}\u0000${p.to}`, p]));
  // Titles on every cell of a very large grid would make the page huge; the sticky headers say where you are.
  const titleAll = n <= 150;
  // Sites with a path out (rows) or in (columns) get a red header, to be found while scrolling.
  const from = new Set(result.findings.map((f) => f.from));
  const to = new Set(result.findings.map((f) => f.to));
  const head = sites
    .map(
      (s) =>
        `<th class="col${to.has(s.id) ? ' hot' : ''}" title="${escapeHtml(s.id)}"><span>${escapeHtml(s.id)}</span></th>`,
    )
    .join('');
  const rows = sites
    .map((a, i) => {
      const cells = sites
        .map((b, j) => {
          if (i === j) return `<td class="self"${titleAll ? ` title="${escapeHtml(a.id)} (same site)"` : ''}></td>`;
          const verdict = verdicts.get(`${a.id}\u0000${b.id}`);
          const findings = verdict?.findings ?? [];
          if (findings.length === 0) {
            return titleAll
              ? `<td class="ok" title="${cellTitle(a.id, b.id, findings)}"></td>`
              : '<td class="ok"></td>';
          }
          return `<td class="bad" title="${cellTitle(a.id, b.id, findings)}"><a href="#${pairAnchor(i, j)}">${showCounts ? findings.length : ''}</a></td>`;
        })
        .join('');
      return `<tr><th${from.has(a.id) ? ' class="hot"' : ''} title="${escapeHtml(a.id)}">${escapeHtml(a.id)}</th>${cells}</tr>`;
    })
    .join('\n');
  const style = `<style>table.matrix td{width:${cell}px;min-width:${cell}px;height:${cell}px;font-size:${Math.max(9, font)}px;line-height:${cell}px}table.matrix th{font-size:${font}px}</style>`;
  return `${style}<div class="matrix-wrap"><table class="matrix" aria-label="Site by site reachability"><thead><tr><th class="corner">from ↓ &nbsp; to →</th>${head}</tr></thead><tbody>\n${rows}\n</tbody></table></div>`;
}

function renderFindings(result: AuditResult): string {
  if (result.findings.length === 0) {
    return `<div class="allclear"><span class="big">✓</span><span>No path: every one of the ${count(result.pairsChecked)} ordered pairs is sealed on the network, in IAM, in the database and on the uploads file system.</span></div>`;
  }
  const index = new Map(result.sites.map((s, i) => [s.id, i]));
  const seenPairs = new Set<string>();
  const articles = result.findings.slice(0, LISTED_FINDINGS).map((f) => {
    const i = index.get(f.from) ?? -1;
    const j = index.get(f.to) ?? -1;
    const key = `${i}-${j}`;
    const id = seenPairs.has(key) ? '' : ` id="${pairAnchor(i, j)}"`;
    seenPairs.add(key);
    const rules = f.rules
      .map(
        (r) =>
          `<li><span class="where mono">${escapeHtml(r.stack)} / ${escapeHtml(r.logicalId)}</span><br><code>${escapeHtml(r.rule)}</code></li>`,
      )
      .join('');
    return `<article${id}><h3><span class="pill ${f.kind}">${KIND_LABEL[f.kind]}</span><span>${escapeHtml(f.from)} → ${escapeHtml(f.to)}</span></h3><div>${escapeHtml(f.summary)}</div><ul class="rules">${rules}</ul></article>`;
  });
  const more =
    result.findings.length > LISTED_FINDINGS
      ? `<p class="hint">… and ${result.findings.length - LISTED_FINDINGS} more paths, not listed here (every pair is still in the matrix).</p>`
      : '';
  return `<div class="findings">${articles.join('\n')}${more}</div>`;
}

function renderQuestion(q: SelfAssessmentAnswer): string {
  const items = q.evidence
    .map((e) => (e.startsWith('✗ ') ? `<li class="miss">${escapeHtml(e.slice(2))}</li>` : `<li>${escapeHtml(e)}</li>`))
    .join('');
  return `<div class="q ${answeredWell(q) ? 'yes' : 'no'}"><div class="num">${q.number}</div><div class="body"><h3><span>${escapeHtml(q.question)}</span><span class="badge">${q.answer.toUpperCase()}</span></h3><details open><summary>Evidence (${q.evidence.length})</summary><ul>${items}</ul></details></div></div>`;
}

const count = (n: number) => n.toLocaleString('en-US');

/** What the audit cannot read: neither a path nor isolation, for a person to look at. */
function renderReviews(result: AuditResult): string {
  const reviews = result.reviews ?? [];
  if (reviews.length === 0) return '';
  const items = reviews
    .map(
      (r) =>
        `<li>${escapeHtml(r.summary)}${r.rules.map((rule) => `<div class="mono">${escapeHtml(rule.stack)} / ${escapeHtml(rule.logicalId)}: ${escapeHtml(rule.rule)}</div>`).join('')}</li>`,
    )
    .join('\n');
  return `<section>
<h2>Needs review (${reviews.length})</h2>
<p class="hint">Policies the audit cannot read from the templates (an AWS managed policy its data lacks, a role outside the assembly). They are not counted as paths; look at them.</p>
<ul class="reviews">
${items}
</ul>
</section>`;
}

export function renderAuditHtml(result: AuditResult): string {
  const n = result.sites.length;
  const cells = new Set(result.sites.map((s) => s.cell).filter(Boolean)).size;
  const strict = result.sites.filter((s) => s.isolation === 'strict').length;
  const counts = PATH_KINDS.map((k) => [k, result.findings.filter((f) => f.kind === k).length] as const);
  const badPairs = result.pairs.filter((p) => !p.ok).length;
  const percent = result.questions.length > 0 ? Math.round((100 * result.score) / result.questions.length) : 0;
  const ringColor = result.score === result.questions.length ? '#22c55e' : result.score >= 7 ? '#f59e0b' : '#ef4444';
  const env = result.environment ?? 'unknown environment';
  const verdict = result.passed
    ? `<div class="verdict pass">✓ Sealed: no path between any two sites</div>`
    : `<div class="verdict fail">✗ ${result.findings.length} path${result.findings.length === 1 ? '' : 's'} between sites (${count(badPairs)} of ${count(result.pairsChecked)} pairs)</div>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bulkhead isolation audit: ${escapeHtml(env)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top">
<div class="brand">Bulkhead · isolation audit</div>
<h1>Environment <span class="env">${escapeHtml(env)}</span></h1>
${verdict}
<div class="meta audited">Audited: ${escapeHtml(result.provenance ? describeProvenance(result.provenance) : 'an assembly that does not say which fleet file, environment or commit it was synthesized from')}</div>
<div class="meta">Cloud assembly ${escapeHtml(result.assembly)} · generated ${escapeHtml(result.generatedAt)} · ${count(result.statistics.stacks)} stacks, ${count(result.statistics.resources)} resources audited in ${count(result.statistics.durationMs)} ms</div>
</header>
<main>
<div class="cards">
<div class="card"><div class="label">Sites</div><div class="value">${n}</div><div class="sub">${cells} cell${cells === 1 ? '' : 's'} · ${strict} strict</div></div>
<div class="card"><div class="label">Ordered pairs checked</div><div class="value">${count(result.pairsChecked)}</div><div class="sub">${n} × ${Math.max(0, n - 1)}, every way in</div></div>
<div class="card"><div class="label">Paths found</div><div class="value ${result.passed ? 'good' : 'bad'}">${count(result.findings.length)}</div><div class="sub">${counts.map(([k, c]) => `${c} ${KIND_LABEL[k].toLowerCase()}`).join(' · ')}</div></div>
<div class="card score"><div class="ring" style="--p:${percent};--ring:${ringColor}"><span>${result.score}/${result.questions.length}</span></div><div><div class="label">Self-assessment</div><div class="sub">${result.questions.filter(answeredWell).length} as a sealed fleet answers · ${result.questions.filter((q) => !answeredWell(q)).length} not, from the templates</div></div></div>
</div>
<section>
<h2>Who can reach whom</h2>
<p class="hint">Each row is a site and each column a site it might reach. Green: no path. Red: a path (network, IAM, database or storage); hover for what it is, click to jump to its rules. Hatched: the site itself.</p>
<div class="legend"><span><i style="background:var(--ok)"></i>no path</span><span><i style="background:var(--bad)"></i>path found</span><span><i style="background:repeating-linear-gradient(45deg,#cbd5e1 0 3px,#f1f5f9 3px 6px)"></i>same site</span></div>
${renderMatrix(result)}
</section>
<section>
<h2>Paths</h2>
<p class="hint">Every path names the stack, the logical id and the rule or statement it goes through.</p>
${renderFindings(result)}
</section>
${renderReviews(result)}
<section>
<h2>Isolation self-assessment: ${result.score} of ${result.questions.length}</h2>
<p class="hint">Each answer is read from the synthesized templates; the evidence says what was found.</p>
<div class="questions">
${result.questions.map(renderQuestion).join('\n')}
</div>
</section>
</main>
<footer>Bulkhead · offline audit of the synthesized templates: it shows what the templates allow, not what is deployed. See docs/audit.md for what counts as a path.</footer>
</body>
</html>
`;
}
