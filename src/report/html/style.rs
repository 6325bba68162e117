//! The HTML report's stylesheet: light and dark colour schemes (`prefers-color-scheme`),
//! a layout that reads at 1,280 px and on a phone, and the restyling of the SVG charts'
//! frames, fault bands and p50 lines (the charts carry light-scheme colours as attributes;
//! CSS overrides them).

pub const CSS: &str = r#"
:root{--bg:#ffffff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--fault:rgba(214,39,40,.13);--remedy:#6e3caa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#8d96a0;--line:#30363d;--card:#161b22;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--fault:rgba(248,81,73,.22);--remedy:#b392f0}}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
body{margin:0}
main{max-width:1280px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:.2em 0;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:1.4em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em;overflow-wrap:anywhere}
.verdict{font-size:.8em;padding:.1em .5em;border-radius:.3em;color:#fff;vertical-align:middle}
.verdict.pass{background:var(--ok)}.verdict.fail,.verdict.error,.verdict.aborted{background:var(--bad)}.verdict.incomplete{background:var(--warn)}
.reason{color:var(--bad)}
.meta{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:6px 16px;margin:.8em 0}
.meta div{background:var(--card);padding:6px 10px;border-radius:6px;min-width:0}
.meta dt{color:var(--muted);font-size:.8em}.meta dd{margin:0;overflow-wrap:anywhere}
.tablebox,.chartbox{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600;white-space:nowrap}
.ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:700}
figure{margin:0 0 1.2em}figcaption{font-weight:600;margin-bottom:.3em}
svg.chart{display:block;width:100%;min-width:640px;height:auto;background:var(--card);border-radius:6px}
svg.chart .frame text,svg.chart .step text{fill:var(--fg)}
svg.chart .frame line,svg.chart .frame polyline{stroke:var(--muted)}
svg.chart .fault rect{fill:var(--fault)}svg.chart .fault text{fill:var(--bad)}
svg.chart .remedy polyline{stroke:var(--remedy);stroke-dasharray:6 4}svg.chart .remedy text{fill:var(--remedy)}
svg.chart g[data-metric=p50] polyline{stroke-dasharray:5 4;stroke-width:1.5}
svg.chart g[data-metric=measured] polyline{stroke-dasharray:5 4}
svg.chart g[data-metric=trend] polyline{stroke-dasharray:8 5;stroke-width:1.5;opacity:.75}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;padding:0;margin:.3em 0 .8em}
.legend li{overflow-wrap:anywhere}
.swatch{display:inline-block;width:14px;height:4px;margin-right:6px;vertical-align:middle;border-radius:2px}
.swatch.fault{height:12px;background:var(--fault)}.swatch.remedy{background:var(--remedy)}
.k{display:inline-block;padding:0 .4em;border-radius:3px;color:#fff;font-weight:400}
.k.load{background:#1f77b4}.k.fault{background:#d62728}.k.wait{background:#7f7f7f}
.events{font-size:.9em;padding-left:1.5em}.events .t{color:var(--muted);font-variant-numeric:tabular-nums}
footer{color:var(--muted);margin-top:2em;font-size:.85em;overflow-wrap:anywhere}
@media (max-width:600px){main{padding:8px}html{font-size:14px}th,td{padding:3px 5px}}
"#;
