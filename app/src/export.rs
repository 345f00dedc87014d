//! Exports: scenario JSON, the run's event log as JSONL (the canonical log, hash-stable),
//! and a run as one self-contained HTML file that replays offline (graph, timeline,
//! transcript) with a small vanilla-JS player and no network access, followed by the
//! team's structure at the end of the run (`structure_parts`).
//! Also the browser side of saving a file (a Blob and a temporary `<a download>`).

use crate::cast::{AgentInfo, Cast};
use crate::run::RunData;
use crate::views::icons::Icon;
use council_core::event::EventLog;

/// JSON that is safe inside `<script type="application/json">`: every `<` becomes `\u003c`
/// so no `</script>` or `<!--` in agent text can end the block.
pub fn script_safe_json(v: &serde_json::Value) -> String {
    serde_json::to_string(v).expect("values serialize").replace('<', "\\u003c")
}

/// Escapes text for an HTML text node or attribute.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A cast for an imported log with no scenario: one generic agent per id seen.
pub fn cast_for_log(log: &EventLog) -> Cast {
    use council_core::event::EventKind::*;
    let mut max = 0u32;
    for e in log.events() {
        let ids: Vec<u32> = match &e.kind {
            Ask { agent, .. } | Answer { agent, .. } | Vote { agent, .. } | Rank { agent, .. } => vec![*agent],
            Message { from, to, .. } => to.iter().copied().chain([*from]).collect(),
            Error { agent: Some(a), .. } => vec![*a],
            Score { agent, .. } | Active { agent, .. } => vec![*agent],
            Judgment { judge, a, b, winner } => vec![*judge, *a, *b, *winner],
            Graph { edges } => edges.iter().flat_map(|(a, b)| [*a, *b]).collect(),
            Groups { groups, .. } => groups.iter().flatten().copied().collect(),
            _ => vec![],
        };
        max = ids.into_iter().fold(max, u32::max);
    }
    let n = if log.is_empty() { 0 } else { max.min(10_000) + 1 };
    Cast {
        agents: (0..n).map(|i| AgentInfo { name: format!("agent {i}"), role: String::new(), backend: "sim".into() }).collect(),
        edges: vec![],
        layered: false,
    }
}

const PLAYER_JS: &str = r#"
const D=JSON.parse(document.getElementById('run').textContent);
const A=D.cast.agents,E=D.events,W=600,H=420,NS='http://www.w3.org/2000/svg';
const svg=document.getElementById('g'),tr=document.getElementById('t'),sl=document.getElementById('s'),pos=document.getElementById('p');
const P=A.map((a,i)=>{const t=-Math.PI/2+2*Math.PI*i/Math.max(A.length,1);return A.length==1?[W/2,H/2]:[W/2+220*Math.cos(t),H/2+170*Math.sin(t)]});
const pal=['#4e79a7','#f28e2b','#59a14f','#e15759','#b07aa1','#76b7b2','#edc948','#ff9da7','#9c755f','#bab0ac'],col={};
E.forEach(e=>{if(e.kind=='answer'&&e.answer!=null&&!(e.answer in col))col[e.answer]=pal[Object.keys(col).length%10]});
function el(n,a,p){const x=document.createElementNS(NS,n);for(const k in a)x.setAttribute(k,a[k]);if(p)p.appendChild(x);return x}
D.cast.edges.forEach(([a,b])=>{if(P[a]&&P[b])el('line',{x1:P[a][0],y1:P[a][1],x2:P[b][0],y2:P[b][1],class:'e'},svg)});
const fl=el('g',{},svg);
const N=A.map((a,i)=>{const g=el('g',{transform:'translate('+P[i]+')'},svg);const c=el('circle',{r:15,class:'n'},g);
 const t=el('text',{y:4,'text-anchor':'middle'},g);const l=el('text',{y:32,'text-anchor':'middle',class:'l'},g);l.textContent=a.name;return[c,t]});
let cur=E.length,timer=null;sl.max=E.length;
function who(i){return A[i]?A[i].name:'#'+i}
function line(e){switch(e.kind){case'ask':return'→ '+who(e.agent)+' ('+e.purpose+')';case'answer':return who(e.agent)+': '+(e.answer==null?'unparsed':'answer '+e.answer)+(e.confidence!=null?' ('+e.confidence.toFixed(2)+')':'');
 case'message':return who(e.from)+' → '+e.to.map(who).join(', ')+' ['+e.msg_kind+']: '+e.text;case'vote':return who(e.agent)+' votes '+e.answer;case'rank':return who(e.agent)+' ranks '+e.order.join(' > ');
 case'decision':return'decision: '+e.answer+' by '+e.method+(e.correct==null?'':e.correct?' ✓':' ✗');case'metric':return e.name+' = '+e.value;case'note':return e.text;case'error':return'error: '+e.message}return e.kind}
function show(c){cur=Math.max(0,Math.min(E.length,c));sl.value=cur;pos.textContent=cur+' / '+E.length;
 const ans=A.map(()=>null);for(let i=0;i<cur;i++){const e=E[i];if(e.kind=='answer'&&e.answer!=null&&ans[e.agent]!==undefined)ans[e.agent]=e.answer}
 N.forEach(([c,t],i)=>{c.setAttribute('fill',ans[i]==null?'#999':col[ans[i]]);t.textContent=ans[i]==null?'':String(ans[i]).slice(0,4)});
 fl.replaceChildren();const e=E[cur-1];if(e&&e.kind=='message'&&P[e.from])e.to.forEach(t=>{if(P[t])el('line',{x1:P[e.from][0],y1:P[e.from][1],x2:P[t][0],y2:P[t][1],class:'f'},fl)});
 tr.replaceChildren();for(let i=Math.max(0,cur-200);i<cur;i++){const li=document.createElement('li');li.textContent='R'+E[i].round+' · '+line(E[i]);tr.appendChild(li)}tr.scrollTop=tr.scrollHeight}
function play(){if(timer){clearInterval(timer);timer=null;return}if(cur>=E.length)show(0);timer=setInterval(()=>{if(cur>=E.length){clearInterval(timer);timer=null}else show(cur+1)},150)}
document.getElementById('play').onclick=play;document.getElementById('b').onclick=()=>show(cur-1);document.getElementById('f').onclick=()=>show(cur+1);sl.oninput=()=>show(+sl.value);
document.addEventListener('keydown',k=>{if(k.key==' '){k.preventDefault();play()}if(k.key=='ArrowRight')show(cur+1);if(k.key=='ArrowLeft')show(cur-1)});show(E.length);
"#;

/// The run as one HTML file that replays offline: no external resources at all.
pub fn run_html(run: &RunData) -> String {
    let data = serde_json::json!({
        "title": run.title(),
        "seed": run.seed.to_string(),
        "determinism": run.determinism,
        "cast": run.cast,
        "events": run.log.events(),
        "log_hash": run.log.hash(),
    });
    let title = html_escape(&run.title());
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>{title} — Council run</title><style>
body{{font-family:system-ui,sans-serif;margin:1rem;background:#fff;color:#111}}@media(prefers-color-scheme:dark){{body{{background:#121316;color:#e8e8ea}}}}
#w{{display:flex;gap:1rem;flex-wrap:wrap}}svg{{width:600px;max-width:100%;border:1px solid #8884}}.e{{stroke:#8886}}.f{{stroke:#e15759;stroke-width:3}}
.n{{stroke:#333}}text{{font-size:11px;fill:currentColor}}button svg{{vertical-align:-2px}}#t{{max-height:420px;overflow:auto;flex:1;min-width:280px;font-size:13px;white-space:pre-wrap}}{structure_css}
</style></head><body><h1>{title}</h1><p>seed {seed} · {det} · log hash {hash} · exported from Council; replays offline.</p>
<div><button id="b" aria-label="Step back">{back}</button><button id="play" aria-label="Play or pause">{play}{pause}</button><button id="f" aria-label="Step forward">{fwd}</button>
<input id="s" type="range" min="0" value="0" aria-label="Scrub"><span id="p"></span></div>
<div id="w"><svg id="g" viewBox="0 0 600 420" role="img" aria-label="Agent graph"></svg><ol id="t" aria-label="Transcript"></ol></div>{structure}
<script type="application/json" id="run">{json}</script><script>{js}</script></body></html>"#,
        seed = html_escape(&run.seed.to_string()),
        det = html_escape(&run.determinism),
        hash = run.log.hash(),
        json = script_safe_json(&data),
        js = PLAYER_JS,
        // Icons as paths, like the app's: media glyphs are missing from many fonts.
        back = icon_svg(Icon::StepBack),
        play = icon_svg(Icon::Play),
        pause = icon_svg(Icon::Pause),
        fwd = icon_svg(Icon::StepForward),
        structure = crate::structure_parts::structure_html(run),
        structure_css = crate::structure_parts::EXPORT_CSS,
    )
}

fn icon_svg(icon: Icon) -> String {
    format!(r#"<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path fill="currentColor" d="{}"/></svg>"#, icon.path())
}

/// Offers `text` as a file download named `name`.
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(|_| "cannot create file")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "cannot create file URL")?;
    let doc = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a").map_err(|_| "no anchor")?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// A file name from a title: lowercase letters, digits and dashes.
pub fn file_stem(title: &str) -> String {
    let s: String = title.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if s.is_empty() { "council".into() } else { s.chars().take(60).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use council_core::event::EventKind;

    fn run_with_text(text: &str) -> RunData {
        let (cast, mut log) = crate::fixture::debate();
        log.push(3, EventKind::Note { text: text.into() });
        RunData {
            id: "r1".into(),
            name: "r".into(),
            scenario: serde_json::json!({"title": "T <b>"}),
            seed: u64::MAX,
            determinism: "exact".into(),
            cast,
            log,
            metrics: vec![],
            created_ms: 0.0,
        }
    }

    #[test]
    fn html_export_cannot_be_broken_out_of_by_agent_text() {
        let evil = "</script><script>alert(1)</script><!--";
        let html = run_html(&run_with_text(evil));
        assert!(!html.contains(evil));
        assert_eq!(html.matches("</script>").count(), 2, "only our two script blocks close");
        assert!(html.contains("T &lt;b&gt;"));
        assert_eq!(html.matches("http://").count(), html.matches("http://www.w3.org/2000/svg").count());
        assert!(!html.contains("https://"), "no network references");
        // The embedded JSON parses back to the same events.
        let start = html.find("<script type=\"application/json\" id=\"run\">").unwrap();
        let body = &html[start..];
        let body = &body[body.find('>').unwrap() + 1..body.find("</script>").unwrap()];
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["events"].as_array().unwrap().len(), run_with_text(evil).log.len());
        assert_eq!(v["events"].as_array().unwrap().last().unwrap()["text"], evil);
        assert_eq!(v["seed"], u64::MAX.to_string());
    }

    #[test]
    fn imported_logs_get_a_cast_covering_every_agent() {
        let (_, log) = crate::fixture::debate();
        assert_eq!(cast_for_log(&log).agents.len(), 3);
        assert!(cast_for_log(&EventLog::new()).agents.is_empty());
        let mut only_structure = EventLog::new();
        only_structure.push(0, EventKind::Judgment { judge: 0, a: 1, b: 4, winner: 4 });
        only_structure.push(0, EventKind::Groups { groups: vec![vec![6]], label: "g".into() });
        assert_eq!(cast_for_log(&only_structure).agents.len(), 7);
    }

    #[test]
    fn html_export_ends_with_the_structure_of_a_structured_run() {
        let (cast, log) = crate::fixture::structured("</script><b>x</b>");
        let html = run_html(&RunData { cast, log, ..run_with_text("t") });
        assert_eq!(html.matches("</script>").count(), 2, "only our two script blocks close");
        let st = html.find(r#"<section id="st""#).expect("the structure section");
        assert!(st > html.find(r#"<ol id="t""#).unwrap() && st < html.find("<script").unwrap());
        assert!(!html.contains("https://"));
        assert_eq!(html.matches("http://").count(), html.matches("http://www.w3.org/2000/svg").count());
    }

    #[test]
    fn file_stems_are_tame() {
        assert_eq!(file_stem("Multi-agent Debate: 3 × 2!"), "multi-agent-debate-3-2");
        assert_eq!(file_stem("<>"), "council");
    }
}
