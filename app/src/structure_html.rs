//! The structure views as static HTML, for the run export: the team at the end of the run
//! (graph with the logged edges, group hulls, node size from importance, faded inactive
//! agents), score bars, the judgment matrix, metric curves, choices, groups and who is
//! out. Drawn with the same geometry as the live views (`overlay`); every text from the
//! log or the scenario is escaped, and nothing refers outside the file.

use crate::export::html_escape;
use crate::layout::{self, H, Layout, W};
use crate::overlay;
use crate::run::RunData;
use crate::views::plot::color;
use council_core::event::AgentId;
use council_core::structure::{self, Structure};
use std::fmt::Write;

/// CSS for the section (inside the export's single `<style>`).
pub const CSS: &str = "#st h2{font-size:1.1rem}#st h3{font-size:.95rem;margin:.8rem 0 .3rem}#st .hull path{stroke-width:46;stroke-linejoin:round;stroke-linecap:round;opacity:.16}\
.sg .l{stroke:#8889;fill:none;stroke-width:1.4}.sg .h{fill:#888}.sg .out{opacity:.3}.sb{display:grid;grid-template-columns:8rem 20rem 4rem;gap:.4rem;align-items:center;font-size:13px}\
.sb .t{display:block;height:.7rem;background:#8883;border-radius:3px;overflow:hidden}.sb .f{display:block;height:100%;background:#4e79a7}.sb .f.neg{background:#e15759}\
#st table{border-collapse:collapse;font-size:13px}#st td,#st th{border:1px solid #8886;padding:.1rem .4rem;text-align:center}#st .cv{width:320px;height:160px;border:none}\
#st .ch li{display:inline-block;border:1px solid #8886;border-radius:999px;padding:0 .5rem;margin:.1rem;font-size:13px}#st .ch li.cur{font-weight:700}";

fn name(names: &[String], a: AgentId) -> String {
    html_escape(&names.get(a as usize).cloned().unwrap_or_else(|| format!("#{a}")))
}

/// The section, or an empty string when the run's log has no structure events.
pub fn structure_html(run: &RunData) -> String {
    let events = run.log.events();
    if !structure::has_structure(events) {
        return String::new();
    }
    let s = Structure::at(events, events.len());
    let names: Vec<String> = run.cast.agents.iter().map(|a| a.name.clone()).collect();
    let mut h = String::from(r#"<section id="st" aria-labelledby="st-h"><h2 id="st-h">Structure at the end of the run</h2>"#);
    graph(&mut h, run, &s, &names);
    membership(&mut h, &s, &names);
    scores(&mut h, run, &s, &names);
    judgments(&mut h, &s, &names);
    curves(&mut h, run);
    choices(&mut h, &s);
    h.push_str("</section>");
    h
}

fn graph(h: &mut String, run: &RunData, s: &Structure, names: &[String]) {
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
    let _ = write!(h, r#"<svg class="sg" viewBox="0 0 {W} {H}" role="img" aria-label="Agent graph at the end of the run">"#);
    if let Some(g) = &s.groups {
        for (k, members) in g.groups.iter().enumerate() {
            let pts: Vec<_> = members.iter().filter_map(|m| pos.get(*m as usize).copied()).collect();
            if pts.is_empty() {
                continue;
            }
            let label = format!("{} {}", html_escape(&g.label), k + 1);
            let who = members.iter().map(|m| name(names, *m)).collect::<Vec<_>>().join(", ");
            let (lx, ly) = overlay::hull_label_at(&pts, 30.0).unwrap_or_default();
            let _ = write!(
                h,
                r#"<g class="hull" data-group="{k}"><title>{label}: {who}</title><path d="{d}" fill="{c}" stroke="{c}"/><text x="{lx:.1}" y="{ly:.1}" text-anchor="middle">{label}</text></g>"#,
                d = overlay::hull_path(&pts),
                c = color(k),
            );
        }
    }
    let edges = s.graph.as_ref().map_or(&run.cast.edges, |g| &g.edges);
    let (lines, heads) = overlay::arrow_paths(&pos, edges, |b| base * scales.get(b as usize).copied().unwrap_or(1.0) + 3.0);
    let _ = write!(h, r#"<path class="l" d="{lines}"/><path class="h" d="{heads}"/>"#);
    for (i, (x, y)) in pos.iter().enumerate() {
        let reason = s.inactive.get(&(i as AgentId));
        let title = match reason {
            Some(r) => format!("{} (out: {})", name(names, i as AgentId), html_escape(r)),
            None => name(names, i as AgentId),
        };
        let _ = write!(
            h,
            r#"<g class="sn{out}" data-agent="{i}" transform="translate({x:.1},{y:.1})"><title>{title}</title><circle r="{r:.1}" fill="{c}"/><text y="{ty:.1}" text-anchor="middle">{nm}</text></g>"#,
            out = if reason.is_some() { " out" } else { "" },
            r = base * scales[i],
            c = color(i),
            ty = base * scales[i] + 12.0,
            nm = name(names, i as AgentId),
        );
    }
    h.push_str("</svg>");
}

fn membership(h: &mut String, s: &Structure, names: &[String]) {
    if let Some(g) = &s.groups {
        h.push_str("<h3>Groups</h3><ul>");
        for (k, members) in g.groups.iter().enumerate() {
            let who = members.iter().map(|m| name(names, *m)).collect::<Vec<_>>().join(", ");
            let _ = write!(h, "<li>{} {}: {who}</li>", html_escape(&g.label), k + 1);
        }
        h.push_str("</ul>");
    }
    if !s.inactive.is_empty() {
        h.push_str(r#"<h3>Out of the team</h3><ul class="inactive">"#);
        for (a, r) in &s.inactive {
            let _ = write!(h, "<li>{} — {}</li>", name(names, *a), html_escape(r));
        }
        h.push_str("</ul>");
    }
}

fn scores(h: &mut String, run: &RunData, s: &Structure, names: &[String]) {
    for (score, agents) in &s.scores {
        let (lo, hi) = overlay::score_range(run.log.events(), score);
        let _ = write!(h, r#"<h3>{}</h3><div class="sb" data-score="{0}">"#, html_escape(score));
        for (a, v) in agents {
            let (left, width) = overlay::bar_span(*v, lo, hi);
            let _ = write!(
                h,
                r#"<span>{}</span><span class="t" role="meter" aria-valuemin="{lo}" aria-valuemax="{hi}" aria-valuenow="{v}"><span class="f{neg}" style="margin-left:{left:.1}%;width:{width:.1}%"></span></span><span>{num}</span>"#,
                name(names, *a),
                neg = if *v < 0.0 { " neg" } else { "" },
                num = overlay::fmt_num(*v),
            );
        }
        h.push_str("</div>");
    }
}

fn judgments(h: &mut String, s: &Structure, names: &[String]) {
    let judged = s.judged();
    if judged.is_empty() {
        return;
    }
    h.push_str(r#"<h3>Pairwise judgments</h3><table class="jm"><caption>Times the row was preferred over the column, by every judge</caption><tr><th>preferred \ over</th>"#);
    for b in &judged {
        let _ = write!(h, r#"<th scope="col">{}</th>"#, name(names, *b));
    }
    h.push_str("</tr>");
    for &a in &judged {
        let _ = write!(h, r#"<tr><th scope="row">{}</th>"#, name(names, a));
        for &b in &judged {
            let cell = if a == b { String::new() } else { s.win_share(None, a, b).map(|_| s.wins(None, a, b).to_string()).unwrap_or_default() };
            let _ = write!(h, "<td>{cell}</td>");
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
}

fn curves(h: &mut String, run: &RunData) {
    let (pw, ph, m) = (320.0, 160.0, 24.0);
    for c in structure::curves(run.log.events()) {
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
        let title = html_escape(&c.name);
        let _ = write!(
            h,
            r##"<h3>{title}</h3><svg class="cv" viewBox="0 0 {pw} {ph}" role="img" aria-label="{title} per {xl}, {n} values from {a} to {b}"><polyline points="{pts}" fill="none" stroke="#4e79a7" stroke-width="2"/><text x="{m}" y="{ty}">{xl} {x0}</text><text x="{tx}" y="{ty}" text-anchor="end">{x1}</text><text x="2" y="12">{y1}</text><text x="2" y="{yb}">{y0}</text></svg>"##,
            xl = c.x_label,
            n = c.points.len(),
            a = overlay::fmt_num(c.points[0].2),
            b = overlay::fmt_num(c.points[c.points.len() - 1].2),
            ty = ph - 6.0,
            tx = pw - m,
            yb = ph - m,
            x0 = overlay::fmt_num(x0),
            x1 = overlay::fmt_num(x1),
            y0 = overlay::fmt_num(y0),
            y1 = overlay::fmt_num(y1),
        );
    }
}

fn choices(h: &mut String, s: &Structure) {
    if s.choices.is_empty() {
        return;
    }
    h.push_str(r#"<h3>Choices</h3><ol class="ch">"#);
    let last = s.choices.len() - 1;
    for (i, c) in s.choices.iter().enumerate() {
        let _ = write!(
            h,
            r#"<li{cur}>R{} {}: {}</li>"#,
            c.round,
            html_escape(&c.name),
            html_escape(&c.value),
            cur = if i == last { r#" class="cur""# } else { "" }
        );
    }
    h.push_str("</ol>");
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

    #[test]
    fn the_end_state_is_drawn_graph_hulls_bars_matrix_curve_choices() {
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
        assert!(h.contains(r#"class="f neg""#), "the negative score draws as such");
        assert!(h.contains("<table class=\"jm\">"));
        assert!(h.contains(r#"<h3>regret</h3><svg class="cv""#));
        assert_eq!(h.matches("<li").count(), 2 + 1 + 3, "2 groups, 1 out, 3 choices");
        assert_eq!(h.matches(r#"<li class="cur">"#).count(), 1, "the latest choice is marked");
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
