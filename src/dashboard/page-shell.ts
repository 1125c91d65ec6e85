/**
 * The page's HTML, the same for every visit: no data and no inline script (the CSP allows
 * scripts from this origin only), so nothing a bottle wrote can ever be part of the markup. The
 * page's modules come bundled as one script (one request, one compile), and the session and the
 * pending list the page starts with are preloaded: the server reads the list while the script is
 * still on its way.
 */
export const PAGE_SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>bot-bottle dashboard</title>
<link rel="stylesheet" href="/static/app.css">
<script type="module" src="/static/app.js"></script>
<link rel="preload" href="/api/session" as="fetch" crossorigin>
<link rel="preload" href="/api/pending" as="fetch" crossorigin>
</head>
<body>
<header>
  <h1>bot-bottle</h1>
  <nav>
    <button type="button" data-view="pending" class="tab" aria-selected="true">Pending <span id="pending-count">…</span></button>
    <button type="button" data-view="audit" class="tab">Audit log</button>
    <button type="button" data-view="bottles" class="tab">Bottles</button>
  </nav>
  <span id="connection" class="connection">connecting…</span>
</header>
<main>
  <section id="view-pending" class="view">
    <div class="split">
      <div class="list-pane"><p id="pending-summary" class="muted" hidden></p><table id="pending-table"><thead><tr><th>ID</th><th>Bottle</th><th>Kind</th><th>Age</th><th>Justification</th></tr></thead><tbody></tbody></table>
      <p id="pending-empty" class="muted" hidden>No pending proposals.</p>
      <p id="pending-more" class="actions" hidden><button type="button" id="pending-next">Show more</button> <button type="button" id="pending-all">Show all</button></p></div>
      <div id="detail" class="detail-pane"><p class="muted">Select a proposal to review it.</p></div>
    </div>
  </section>
  <section id="view-audit" class="view" hidden>
    <form id="audit-filters" class="filters">
      <label>Bottle <input name="bottle" autocomplete="off"></label>
      <label>Kind <input name="kind" autocomplete="off"></label>
      <label>Status <input name="status" autocomplete="off"></label>
      <label>Action <input name="action" autocomplete="off"></label>
      <label>Component <input name="component" autocomplete="off"></label>
      <label>Since <input name="since" placeholder="2026-11-22" autocomplete="off"></label>
      <label>Until <input name="until" autocomplete="off"></label>
      <button type="submit">Filter</button>
      <button type="button" id="audit-verify">Verify the log</button>
    </form>
    <p id="audit-message" class="message" hidden></p>
    <div class="split">
      <div class="list-pane"><table id="audit-table"><thead><tr><th>Seq</th><th>Time</th><th>Bottle</th><th>Component</th><th>Action</th><th>Kind</th><th>Status</th><th>Actor</th><th>Notes</th></tr></thead><tbody></tbody></table></div>
      <div id="audit-detail" class="detail-pane"></div>
    </div>
  </section>
  <section id="view-bottles" class="view" hidden>
    <table id="bottles-table"><thead><tr><th>Bottle</th><th>State</th><th>Pending</th><th>Last heartbeat</th><th>Sidecar</th><th>Schema</th><th>Live routes sha256</th><th>Registered</th><th>Backend</th><th>Image</th></tr></thead><tbody></tbody></table>
    <p id="bottles-empty" class="muted" hidden>No bottles known yet: a bottle appears when its launcher registers it, its sidecar first reports, or it has a proposal waiting.</p>
  </section>
</main>
</body>
</html>
`;

export const PAGE_CSS = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; font-size: 14px; }
body { margin: 0; }
[hidden] { display: none !important; }
header { display: flex; gap: 1rem; align-items: center; padding: .5rem 1rem; border-bottom: 1px solid #8884; }
header h1 { font-size: 1.1rem; margin: 0; }
.tab { border: none; background: none; padding: .4rem .6rem; cursor: pointer; font: inherit; }
.tab[aria-selected="true"] { border-bottom: 2px solid currentColor; font-weight: 600; }
.connection { margin-left: auto; font-size: .85rem; }
.connection.live { color: #2a2; } .connection.down { color: #c33; }
main { padding: .5rem 1rem; }
.split { display: grid; grid-template-columns: minmax(320px, 2fr) 3fr; gap: 1rem; align-items: start; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid #8882; vertical-align: top; }
tbody tr { cursor: pointer; } tbody tr:hover { background: #8881; } tbody tr.selected { background: #48f3; }
td.excerpt { overflow-wrap: anywhere; }
.mark { font-weight: 700; margin-right: .3rem; } .mark.forged { color: #c33; } .mark.stale { color: #b80; }
.muted { color: #888; }
.detail-pane { overflow-wrap: anywhere; }
.detail-pane h2 { font-size: 1rem; margin: .2rem 0; } .detail-pane h3 { font-size: .95rem; margin: .8rem 0 .2rem; }
.warning { padding: .3rem .5rem; margin: .3rem 0; border-left: 4px solid; }
.warning.danger { border-color: #c33; font-weight: 600; } .warning.warn { border-color: #b80; } .warning.note { border-color: #888; color: #888; }
pre.lines { margin: 0; padding: .4rem; background: #8881; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .85rem; }
pre.lines span { display: block; }
.add { color: #1a7f37; } .del { color: #cf222e; } .hunk { color: #0969da; } .meta { font-weight: 600; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .6rem 0; }
.actions input[type=text] { flex: 1; min-width: 16rem; }
textarea.editor { width: 100%; min-height: 16rem; font-family: ui-monospace, monospace; font-size: .85rem; }
.message { padding: .3rem .5rem; } .message.error { color: #c33; } .message.ok { color: #2a2; }
.filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin-bottom: .5rem; }
.filters input { width: 8rem; }
.liveness-alive { color: #2a2; } .liveness-stale { color: #b80; } .liveness-gone { color: #888; }
`;
