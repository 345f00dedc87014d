//! The structure views as element trees (`markup`), built from the `core::structure` fold:
//! groups and who is out, score bars, the judgment matrix, choices, and for exports a
//! static graph and metric curves. The live structure panel mounts the same trees at the
//! cursor; the HTML export serializes them at the end of the run, so both show the same.
//!
//! Rows and scales come from the whole log ([`Axes`]) so scrubbing changes values, never
//! the layout. Every text from the log or the scenario stays text (the tree escapes it).

use crate::layout::{self, H, Layout, W};
use crate::markup::{El, Node, el};
use crate::overlay::{self, fmt_num};
use crate::run::RunData;
use crate::views::plot::color;
use council_core::event::{AgentId, Event};
use council_core::structure::{self, Curve, Structure};
use std::collections::BTreeMap;

/// What exists over the whole run: score names with their ranges and agents, who was
/// judged and who judged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Axes {
    pub scores: Vec<(String, (f64, f64), Vec<AgentId>)>,
    pub judged: Vec<AgentId>,
    pub judges: Vec<AgentId>,
}

pub fn axes(events: &[Event]) -> Axes {
    let end = Structure::at(events, events.len());
    Axes {
        scores: end
            .scores
            .iter()
            .map(|(k, agents)| (k.clone(), overlay::score_range(events, k), agents.keys().copied().collect()))
            .collect(),
        judged: end.judged(),
        judges: end.judges().into_iter().collect(),
    }
}

/// An agent's name in the cast; ids beyond it read "#<id>".
pub fn agent_name(names: &[String], a: AgentId) -> String {
    names.get(a as usize).cloned().unwrap_or_else(|| format!("#{a}"))
}

/// Working groups and agents out of the team, as lists (the graph draws them too).
pub fn membership(s: &Structure, names: &[String]) -> Option<Node> {
    let mut div = el("div").class("membership");
    if let Some(g) = &s.groups {
        let items = g
            .groups
            .iter()
            .enumerate()
            .map(|(k, members)| {
                let who = members.iter().map(|m| agent_name(names, *m)).collect::<Vec<_>>().join(", ");
                el("li").attr("data-group", k.to_string()).text(format!("{} {}: {who}", g.label, k + 1)).into()
            })
            .collect();
        div = div.child(el("div").class("groups").child(el("h4").text("Groups")).child(el("ul").attr("data-testid", "groups").children(items)));
    }
    if !s.inactive.is_empty() {
        let items = s
            .inactive
            .iter()
            .map(|(a, reason)| {
                el("li").attr("data-agent", a.to_string()).text(agent_name(names, *a)).child(el("span").class("muted").text(format!(" — {reason}"))).into()
            })
            .collect();
        div = div.child(el("div").class("inactive").child(el("h4").text("Out of the team")).child(el("ul").attr("data-testid", "inactive").children(items)));
    }
    (!div.children.is_empty()).then(|| div.into())
}

/// One block of bars per score name: each agent's latest value in `s`, on the range the
/// score takes over the whole run; agents out of the team are dimmed.
pub fn score_blocks(axes: &Axes, s: &Structure, names: &[String]) -> Vec<Node> {
    axes.scores
        .iter()
        .map(|(score, (lo, hi), agents)| {
            let rows = agents
                .iter()
                .map(|&a| {
                    let v = s.score(score, a);
                    let who = agent_name(names, a);
                    let (left, width) = v.map(|v| overlay::bar_span(v, *lo, *hi)).unwrap_or((0.0, 0.0));
                    let shown = v.map(fmt_num);
                    let fill = el("span")
                        .class(if v.is_some_and(|v| v < 0.0) { "fill negative" } else { "fill" })
                        .style("margin-left", format!("{left:.1}%"))
                        .style("width", format!("{width:.1}%"));
                    let track = el("span")
                        .class("track")
                        .attr("role", "meter")
                        .attr("aria-label", format!("{score} of {who}"))
                        .attr("aria-valuemin", lo.to_string())
                        .attr("aria-valuemax", hi.to_string())
                        .attr("aria-valuenow", v.unwrap_or(*lo).to_string())
                        .attr("aria-valuetext", shown.clone().unwrap_or_else(|| "none yet".into()))
                        .child(fill);
                    el("li")
                        .class(if s.is_active(a) { "" } else { "inactive" })
                        .attr("data-agent", a.to_string())
                        .attr("data-value", shown.clone().unwrap_or_default())
                        .child(el("span").class("who").text(who))
                        .child(track)
                        .child(el("span").class("num").text(shown.unwrap_or_else(|| "—".into())))
                        .into()
                })
                .collect();
            el("figure")
                .class("scores")
                .attr("data-testid", "score-bars")
                .attr("data-score", score.clone())
                .child(el("figcaption").text(score.clone()))
                .child(el("ul").children(rows))
                .into()
        })
        .collect()
}

/// The judgment matrix: row = the preferred agent, column = the other; counts (or win
/// shares) over every judge or one. `None` when nobody was ever judged.
pub fn judgment_table(axes: &Axes, s: &Structure, names: &[String], judge: Option<AgentId>, shares: bool) -> Option<Node> {
    if axes.judged.is_empty() {
        return None;
    }
    let head = std::iter::once(el("th").attr("scope", "col").text("preferred \\ over").into())
        .chain(axes.judged.iter().map(|b| el("th").attr("scope", "col").text(agent_name(names, *b)).into()))
        .collect();
    let rows = axes
        .judged
        .iter()
        .map(|&a| {
            let cells = std::iter::once(el("th").attr("scope", "row").text(agent_name(names, a)).into())
                .chain(axes.judged.iter().map(|&b| {
                    if a == b {
                        return el("td").class("diag").attr("aria-hidden", "true").into();
                    }
                    let (wins, lost) = (s.wins(judge, a, b), s.wins(judge, b, a));
                    let share = s.win_share(judge, a, b);
                    let shown = match (share, shares) {
                        (None, _) => String::new(),
                        (Some(v), true) => format!("{:.0}%", 100.0 * v),
                        (Some(_), false) => wins.to_string(),
                    };
                    el("td")
                        .class(if share.is_some() { "" } else { "empty" })
                        .attr("data-row", a.to_string())
                        .attr("data-col", b.to_string())
                        .attr("data-wins", wins.to_string())
                        .attr(
                            "aria-label",
                            format!("{} preferred over {}: {wins} of {} comparisons", agent_name(names, a), agent_name(names, b), wins + lost),
                        )
                        .style("--share", format!("{:.3}", share.unwrap_or(0.0)))
                        .text(shown)
                        .into()
                }))
                .collect();
            el("tr").children(cells).into()
        })
        .collect();
    let caption = if shares {
        "Share of comparisons the row won against the column"
    } else {
        "Times the row was preferred over the column"
    };
    let who = match judge {
        Some(j) => format!(", judged by {}", agent_name(names, j)),
        None => ", by every judge".into(),
    };
    Some(
        el("table")
            .class("judgment-matrix")
            .attr("data-testid", "judgment-matrix")
            .attr("data-judge", judge.map(|j| j.to_string()).unwrap_or_else(|| "all".into()))
            .child(el("caption").text(format!("{caption}{who}")))
            .child(el("thead").child(el("tr").children(head)))
            .child(el("tbody").children(rows))
            .into(),
    )
}

/// Choices so far (e.g. the topology picked for each task), the latest marked, and a tally.
pub fn choices(s: &Structure) -> Option<Node> {
    if s.choices.is_empty() {
        return None;
    }
    let last = s.choices.len() - 1;
    let items = s
        .choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut li = el("li").attr("data-name", c.name.clone()).attr("data-value", c.value.clone());
            if i == last {
                li = li.class("current").attr("aria-current", "step");
            }
            li.child(el("span").class("muted").text(format!("R{} {}", c.round, c.name))).text(format!(" {}", c.value)).into()
        })
        .collect();
    let mut tally: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for c in &s.choices {
        *tally.entry((&c.name, &c.value)).or_default() += 1;
    }
    let tally = tally.into_iter().map(|((n, v), k)| format!("{n} {v}: {k}")).collect::<Vec<_>>().join(" · ");
    Some(
        el("div")
            .class("choices")
            .child(el("h4").text("Choices"))
            .child(el("ol").attr("data-testid", "choices").attr("aria-label", "Choices so far").children(items))
            .child(el("p").class("muted tally").attr("data-testid", "choice-tally").text(tally))
            .into(),
    )
}

/// A metric's curve over the whole run as a small SVG (the export's; the page draws its
/// curves with `plot::LinePlot`).
pub fn curve_svg(c: &Curve) -> Node {
    let (pw, ph, m) = (320.0, 160.0, 24.0);
    let ext = |f: fn(&(u64, f64, f64)) -> f64| {
        let lo = c.points.iter().map(f).fold(f64::INFINITY, f64::min);
        let hi = c.points.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
        if hi - lo < 1e-12 { (lo - 0.5, hi + 0.5) } else { (lo, hi) }
    };
    let (x0, x1) = ext(|p| p.1);
    let (y0, y1) = ext(|p| p.2);
    let pts: String = c
        .points
        .iter()
        .map(|p| format!("{:.1},{:.1} ", m + (p.1 - x0) / (x1 - x0) * (pw - 2.0 * m), ph - m - (p.2 - y0) / (y1 - y0) * (ph - 2.0 * m)))
        .collect();
    let (first, last) = (c.points.first().map_or(f64::NAN, |p| p.2), c.points.last().map_or(f64::NAN, |p| p.2));
    let label = format!("{} per {}, {} values from {} to {}", c.name, c.x_label, c.points.len(), fmt_num(first), fmt_num(last));
    let t = |x: f64, y: f64, anchor: &'static str, s: String| -> Node {
        el("text").attr("x", format!("{x:.0}")).attr("y", format!("{y:.0}")).attr("text-anchor", anchor).text(s).into()
    };
    el("figure")
        .class("curve")
        .attr("data-testid", "curve")
        .attr("data-metric", c.name.clone())
        .attr("data-points", c.points.len().to_string())
        .child(el("figcaption").text(c.name.clone()))
        .child(
            el("svg")
                .attr("viewBox", format!("0 0 {pw} {ph}"))
                .attr("role", "img")
                .attr("aria-label", label)
                .child(el("polyline").attr("points", pts).attr("fill", "none").attr("stroke", color(0)).attr("stroke-width", "2"))
                .child(t(m, ph - 6.0, "start", format!("{} {}", c.x_label, fmt_num(x0))))
                .child(t(pw - m, ph - 6.0, "end", fmt_num(x1)))
                .child(t(2.0, 12.0, "start", fmt_num(y1)))
                .child(t(2.0, ph - m, "start", fmt_num(y0))),
        )
        .into()
}

/// The graph at the end of the run, static: group hulls, the logged (or the scenario's)
/// edges as arrows, node size from importance, inactive agents faded with their reason.
pub fn static_graph(run: &RunData, s: &Structure) -> Node {
    let names: Vec<String> = run.cast.agents.iter().map(|a| a.name.clone()).collect();
    let n = names.len();
    let all_edges = overlay::layout_edges(&run.cast.edges, run.log.events());
    // The app's default layout for the same cast.
    let l = if run.cast.layered {
        Layout::Layered
    } else if all_edges.is_empty() || n > 40 {
        Layout::Circle
    } else {
        Layout::Force
    };
    let pos = layout::compute(l, n, &all_edges);
    let scales = overlay::node_scales(s, n);
    let base = if n > 60 { 7.0 } else { 15.0 };
    let mut svg = el("svg")
        .class("sg")
        .attr("viewBox", format!("0 0 {W} {H}"))
        .attr("role", "img")
        .attr("aria-label", "Agent graph at the end of the run");
    if let Some(g) = &s.groups {
        for (k, members) in g.groups.iter().enumerate() {
            let pts: Vec<_> = members.iter().filter_map(|m| pos.get(*m as usize).copied()).collect();
            if pts.is_empty() {
                continue;
            }
            let label = format!("{} {}", g.label, k + 1);
            let who = members.iter().map(|m| agent_name(&names, *m)).collect::<Vec<_>>().join(", ");
            let (lx, ly) = overlay::hull_label_at(&pts, 36.0).unwrap_or_default();
            svg = svg.child(
                el("g")
                    .class("hull")
                    .attr("data-group", k.to_string())
                    .child(el("title").text(format!("{label}: {who}")))
                    .child(el("path").attr("d", overlay::hull_path(&pts)).attr("fill", color(k)).attr("stroke", color(k)))
                    .child(el("text").attr("x", format!("{lx:.1}")).attr("y", format!("{ly:.1}")).attr("text-anchor", "middle").text(label)),
            );
        }
    }
    let edges = s.graph.as_ref().map_or(&run.cast.edges, |g| &g.edges);
    let (lines, heads) = overlay::arrow_paths(&pos, edges, |b| base * scales.get(b as usize).copied().unwrap_or(1.0) + 3.0);
    svg = svg.child(el("path").class("l").attr("d", lines)).child(el("path").class("h").attr("d", heads));
    for (i, (x, y)) in pos.iter().enumerate() {
        let a = i as AgentId;
        let reason = s.inactive.get(&a);
        let title = match reason {
            Some(r) => format!("{} (out: {r})", agent_name(&names, a)),
            None => agent_name(&names, a),
        };
        let r = base * scales[i];
        svg = svg.child(
            el("g")
                .class(if reason.is_some() { "sn out" } else { "sn" })
                .attr("data-agent", i.to_string())
                .attr("transform", format!("translate({x:.1},{y:.1})"))
                .child(el("title").text(title))
                .child(el("circle").attr("r", format!("{r:.1}")).attr("fill", color(i)))
                .child(el("text").attr("y", format!("{:.1}", r + 12.0)).attr("text-anchor", "middle").text(agent_name(&names, a))),
        );
    }
    svg.into()
}

/// CSS for the export's structure section (inside its single `<style>`).
pub const EXPORT_CSS: &str = "#st h2{font-size:1.1rem}#st h3,#st h4{font-size:.95rem;margin:.8rem 0 .3rem}\
#st .hull path{stroke-width:58;stroke-linejoin:round;stroke-linecap:round;opacity:.16}.sg .l{stroke:#8889;fill:none;stroke-width:1.4}.sg .h{fill:#888}.sg .out{opacity:.3}\
#st figure{margin:.4rem 0}#st figcaption{font-weight:600}#st .scores ul{list-style:none;margin:0;padding:0}\
#st .scores li{display:grid;grid-template-columns:8rem 20rem 4rem;gap:.4rem;align-items:center;font-size:13px}#st .scores li.inactive{opacity:.45}\
#st .track{display:block;height:.7rem;background:#8883;border-radius:3px;overflow:hidden}#st .fill{display:block;height:100%;background:#4e79a7}#st .fill.negative{background:#e15759}\
#st table{border-collapse:collapse;font-size:13px}#st caption{text-align:left;font-size:12px}#st td,#st th{border:1px solid #8886;padding:.1rem .4rem;text-align:center}\
#st .curve svg{width:320px;height:160px;border:none}#st .choices ol{list-style:none;padding:0}#st .choices li{display:inline-block;border:1px solid #8886;border-radius:999px;padding:0 .5rem;margin:.1rem;font-size:13px}#st .choices li.current{font-weight:700}";

/// The export's section: the structure at the end of the run, or an empty string when the
/// log has no structure events.
pub fn structure_html(run: &RunData) -> String {
    let events = run.log.events();
    if !structure::has_structure(events) {
        return String::new();
    }
    let s = Structure::at(events, events.len());
    let names: Vec<String> = run.cast.agents.iter().map(|a| a.name.clone()).collect();
    let ax = axes(events);
    let mut section: El = el("section")
        .attr("id", "st")
        .attr("aria-labelledby", "st-h")
        .child(el("h2").attr("id", "st-h").text("Structure at the end of the run"))
        .child(static_graph(run, &s));
    section.children.extend(membership(&s, &names));
    section.children.extend(score_blocks(&ax, &s, &names));
    section.children.extend(judgment_table(&ax, &s, &names, None, false));
    section.children.extend(structure::curves(events).iter().map(curve_svg));
    section.children.extend(choices(&s));
    Node::from(section).html()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> RunData {
        let (cast, log) = crate::fixture::structured(text);
        RunData {
            id: "r".into(),
            name: "r".into(),
            scenario: serde_json::json!({"title": "T"}),
            seed: 1,
            determinism: "exact".into(),
            cast,
            log,
            metrics: vec![],
            created_ms: 0.0,
        }
    }

    fn names(r: &RunData) -> Vec<String> {
        r.cast.agents.iter().map(|a| a.name.clone()).collect()
    }

    #[test]
    fn axes_cover_the_whole_run() {
        let r = run("x");
        let ax = axes(r.log.events());
        assert_eq!(ax.scores.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["importance", "x"]);
        assert_eq!(ax.scores[0].1, (0.0, 0.9));
        assert_eq!(ax.scores[1].1, (-0.5, 0.0));
        assert_eq!((ax.judged.clone(), ax.judges.clone()), (vec![0, 1, 2], vec![0, 2]));
    }

    #[test]
    fn score_bars_follow_the_cursor_on_fixed_rows() {
        let r = run("x");
        let ev = r.log.events();
        let ax = axes(ev);
        let early = Structure::at(ev, ev.len() - 13);
        let blocks = score_blocks(&ax, &early, &names(&r));
        let rows: Vec<_> = blocks[0].elements().into_iter().filter(|e| e.tag == "li").map(|e| e.get("data-value").unwrap().to_string()).collect();
        assert_eq!(rows, ["0.200", ""], "Basil's importance comes later: an empty row, same rows");
        let fills: Vec<_> = blocks[1].elements().into_iter().filter(|e| e.tag == "span" && e.get("class") == Some("fill negative")).cloned().collect();
        assert_eq!(fills.len(), 0);
        let end = Structure::at(ev, ev.len());
        let blocks = score_blocks(&ax, &end, &names(&r));
        let fill = blocks[1].elements().into_iter().find(|e| e.get("class") == Some("fill negative")).unwrap().clone();
        assert_eq!(fill.styles, vec![("margin-left", "0.0%".to_string()), ("width", "100.0%".to_string())]);
        let li0 = blocks[0].elements().into_iter().find(|e| e.tag == "li").unwrap().clone();
        assert_eq!(li0.get("class"), Some("inactive"), "Ada is out at the end");
    }

    #[test]
    fn judgment_table_counts_and_shares_per_judge() {
        let r = run("x");
        let ev = r.log.events();
        let (ax, end) = (axes(ev), Structure::at(ev, ev.len()));
        let cell = |t: &Node, row: &str, col: &str| -> (String, String) {
            let e = t.elements().into_iter().find(|e| e.get("data-row") == Some(row) && e.get("data-col") == Some(col)).unwrap().clone();
            (e.get("data-wins").unwrap().to_string(), Node::El(e).text_content())
        };
        let all = judgment_table(&ax, &end, &names(&r), None, false).unwrap();
        assert_eq!(cell(&all, "1", "0"), ("1".into(), "1".into()));
        assert_eq!(cell(&all, "0", "1"), ("0".into(), "0".into()));
        assert_eq!(cell(&all, "0", "2"), ("0".into(), String::new()), "never compared: blank");
        let by0 = judgment_table(&ax, &end, &names(&r), Some(0), true).unwrap();
        assert_eq!(cell(&by0, "2", "1"), ("1".into(), "100%".into()));
        assert_eq!(cell(&by0, "1", "0").1, "", "judge 0 never compared 0 and 1");
        assert!(by0.text_content().contains("judged by Ada"));
        let none = Structure::default();
        assert!(judgment_table(&Axes::default(), &none, &[], None, false).is_none());
    }

    #[test]
    fn export_section_draws_the_end_state() {
        let h = structure_html(&run("reason"));
        assert!(h.starts_with(r#"<section id="st""#) && h.ends_with("</section>"));
        assert_eq!(h.matches(r#"<g class="hull""#).count(), 2);
        assert_eq!(h.matches(r#"class="sn out""#).count(), 1, "agent 0 is out at the end");
        assert!(h.contains("Ada (out: reason)"));
        // The logged end graph: arrows 1→2 and 2→0 (two heads), not the debate's 6 links.
        let heads = h.split(r#"<path class="h" d=""#).nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(heads.matches('Z').count(), 2);
        // Node size from importance: Basil (0.9, the most important) is the biggest.
        assert!(h.contains(&format!(r#"<circle r="{:.1}""#, 15.0 * overlay::SCALE_MAX)));
        assert!(h.contains(r#"data-score="importance""#));
        assert!(h.contains(r#"style="margin-left:0.0%;width:100.0%;""#), "bars carry their widths inline in the export");
        assert!(h.contains(r#"data-testid="judgment-matrix""#));
        assert!(h.contains(r#"data-metric="regret" data-points="3""#));
        assert_eq!(h.matches(r#"class="current""#).count(), 1, "the latest choice is marked");
        assert!(h.contains("topology parallel: 2 · topology reason: 1"));
    }

    #[test]
    fn log_text_is_escaped_everywhere() {
        let evil = "</script><img src=x onerror=alert(1)>\"'&";
        let h = structure_html(&run(evil));
        assert!(!h.contains("<img") && !h.contains("</script>"), "{h}");
        assert!(h.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&quot;'&amp;"));
    }

    #[test]
    fn runs_without_structure_add_nothing() {
        let (cast, log) = crate::fixture::debate();
        let r = RunData { cast, log, ..run("x") };
        assert_eq!(structure_html(&r), "");
    }
}
