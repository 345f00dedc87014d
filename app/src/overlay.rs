//! Geometry and scales for drawing a team's structure (the `core::structure` fold): group
//! hulls, directed edge paths, node size from importance, bar spans for scores. Pure, so
//! the live views and the static HTML export draw the same shapes, and tests run natively.

use crate::layout::Pos;
use council_core::event::{AgentId, Event, EventKind};
use council_core::structure::Structure;
use std::collections::BTreeSet;

/// Node scale range: the least and the most important agent at the cursor.
pub const SCALE_MIN: f64 = 0.7;
pub const SCALE_MAX: f64 = 1.45;

/// Score name that sizes the graph's nodes.
pub const IMPORTANCE: &str = "importance";

/// Per-agent node scale from the latest `importance` scores: 1 for every agent when no
/// agent has one yet; otherwise linear from `SCALE_MIN` (zero or below) to `SCALE_MAX`
/// (the highest importance at the cursor), and 1 for agents without a score.
pub fn node_scales(s: &Structure, n: usize) -> Vec<f64> {
    let Some(imp) = s.scores.get(IMPORTANCE).filter(|m| !m.is_empty()) else {
        return vec![1.0; n];
    };
    let max = imp.values().copied().fold(0.0f64, f64::max);
    (0..n)
        .map(|i| match imp.get(&(i as AgentId)) {
            Some(v) if max > 0.0 => SCALE_MIN + (SCALE_MAX - SCALE_MIN) * (v.max(0.0) / max),
            Some(_) => SCALE_MIN,
            None => 1.0,
        })
        .collect()
}

/// Edges to lay the graph out with: the scenario's plus every edge any `Graph` event of
/// the log draws, so nodes keep their places while the graph is rewired.
pub fn layout_edges(cast_edges: &[(u32, u32)], events: &[Event]) -> Vec<(u32, u32)> {
    let mut seen: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut out = Vec::new();
    let logged = events.iter().filter_map(|e| match &e.kind {
        EventKind::Graph { edges } => Some(edges.iter()),
        _ => None,
    });
    for e in cast_edges.iter().chain(logged.flatten()) {
        if e.0 != e.1 && seen.insert(*e) {
            out.push(*e);
        }
    }
    out
}

/// Convex hull by gift wrapping (no repeated points, collinear points dropped); fewer
/// than three distinct points come back as they are. Groups are small, and unlike a
/// sort-based hull this adds no sort code to the wasm.
pub fn convex_hull(points: &[Pos]) -> Vec<Pos> {
    let mut p: Vec<Pos> = Vec::with_capacity(points.len());
    for q in points.iter().filter(|q| q.0.is_finite() && q.1.is_finite()) {
        if !p.contains(q) {
            p.push(*q);
        }
    }
    if p.len() < 3 {
        return p;
    }
    let cross = |o: Pos, a: Pos, b: Pos| (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0);
    let dist = |a: Pos, b: Pos| (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2);
    // Start from the leftmost point (lowest x, then lowest y): it is on the hull.
    let start = (0..p.len()).fold(0, |best, i| if (p[i].0, p[i].1) < (p[best].0, p[best].1) { i } else { best });
    let mut hull = Vec::new();
    let mut cur = start;
    loop {
        hull.push(p[cur]);
        let mut next = (cur + 1) % p.len();
        for i in 0..p.len() {
            let c = cross(p[cur], p[next], p[i]);
            // Take the most clockwise candidate; on a line, the farthest one.
            if c < 0.0 || (c == 0.0 && dist(p[cur], p[i]) > dist(p[cur], p[next])) {
                next = i;
            }
        }
        cur = next;
        if cur == start || hull.len() > p.len() {
            break;
        }
    }
    hull
}

/// An SVG path around a group's nodes: its convex hull, drawn with a thick round stroke so
/// the outline becomes a rounded blob (one node: a disc; two: a capsule).
pub fn hull_path(points: &[Pos]) -> String {
    let h = convex_hull(points);
    let mut d = String::new();
    for (i, q) in h.iter().enumerate() {
        d.push_str(&format!("{}{:.1} {:.1}", if i == 0 { "M" } else { "L" }, q.0, q.1));
    }
    match h.len() {
        0 => {}
        // A very short segment: its round caps draw the disc (Chromium draws no caps on a
        // zero-length one).
        1 => d.push_str(&format!("L{:.1} {:.1}", h[0].0 + 0.1, h[0].1)),
        2 => {}
        _ => d.push('Z'),
    }
    d
}

/// Where a group's label goes: above its topmost node.
pub fn hull_label_at(points: &[Pos], pad: f64) -> Option<Pos> {
    let top = points.iter().filter(|q| q.1.is_finite()).min_by(|a, b| a.1.total_cmp(&b.1))?;
    let cx = points.iter().map(|q| q.0).sum::<f64>() / points.len() as f64;
    Some((cx, top.1 - pad))
}

/// Directed edges as two paths: the lines (each stopping `gap(target)` short of its
/// target, so the arrowhead sits outside the node), and the arrowheads (filled triangles).
pub fn arrow_paths(pos: &[Pos], edges: &[(u32, u32)], gap: impl Fn(u32) -> f64) -> (String, String) {
    let (mut lines, mut heads) = (String::new(), String::new());
    for &(a, b) in edges {
        let (Some(p), Some(q)) = (pos.get(a as usize), pos.get(b as usize)) else { continue };
        let (dx, dy) = (q.0 - p.0, q.1 - p.1);
        let len = (dx * dx + dy * dy).sqrt();
        let gap = gap(b);
        if len <= gap + 1.0 {
            continue;
        }
        let (ux, uy) = (dx / len, dy / len);
        let tip = (q.0 - ux * gap, q.1 - uy * gap);
        lines.push_str(&format!("M{:.1} {:.1}L{:.1} {:.1}", p.0, p.1, tip.0, tip.1));
        let (bx, by) = (tip.0 - ux * 7.0, tip.1 - uy * 7.0);
        heads.push_str(&format!(
            "M{:.1} {:.1}L{:.1} {:.1}L{:.1} {:.1}Z",
            tip.0,
            tip.1,
            bx - uy * 3.5,
            by + ux * 3.5,
            bx + uy * 3.5,
            by - ux * 3.5
        ));
    }
    (lines, heads)
}

/// Edge list as text for tests and tooltips: "0-1 1-2".
pub fn edges_text(edges: &[(u32, u32)]) -> String {
    edges.iter().map(|(a, b)| format!("{a}-{b}")).collect::<Vec<_>>().join(" ")
}

/// The value range a score's bars are drawn on: its smallest and largest value over the
/// whole log, widened to include 0 (bars grow from zero), so scrubbing keeps the scale.
pub fn score_range(events: &[Event], name: &str) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for e in events {
        if let EventKind::Score { name: n, value, .. } = &e.kind
            && n == name
            && value.is_finite()
        {
            lo = lo.min(*value);
            hi = hi.max(*value);
        }
    }
    if hi - lo < 1e-12 { (lo, lo + 1.0) } else { (lo, hi) }
}

/// A bar for `v` on `lo..hi` (which contains 0): its left edge and width, in percent.
pub fn bar_span(v: f64, lo: f64, hi: f64) -> (f64, f64) {
    let span = (hi - lo).max(1e-12);
    let at = |x: f64| (100.0 * (x.clamp(lo, hi) - lo) / span).clamp(0.0, 100.0);
    let (z, x) = (at(0.0), at(v));
    (z.min(x), (z - x).abs())
}

/// Short number for labels: integers as such, else three decimals.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use council_core::event::EventLog;

    #[test]
    fn hull_drops_inner_points_and_keeps_corners() {
        let sq = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (5.0, 5.0), (5.0, 0.0)];
        let h = convex_hull(&sq);
        assert_eq!(h.len(), 4, "{h:?}");
        for c in [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)] {
            assert!(h.contains(&c));
        }
        assert_eq!(convex_hull(&[(1.0, 1.0), (1.0, 1.0)]), vec![(1.0, 1.0)]);
        assert!(convex_hull(&[(f64::NAN, 0.0)]).is_empty());
        assert_eq!(convex_hull(&[(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)]).len(), 2, "collinear: the two ends");
    }

    #[test]
    fn hull_paths_close_polygons_and_draw_single_nodes_as_a_dot() {
        assert!(hull_path(&[(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)]).ends_with('Z'));
        assert_eq!(hull_path(&[(3.0, 4.0)]), "M3.0 4.0L3.1 4.0");
        assert_eq!(hull_path(&[(0.0, 0.0), (5.0, 0.0)]), "M0.0 0.0L5.0 0.0");
        assert_eq!(hull_path(&[]), "");
        assert_eq!(hull_label_at(&[(0.0, 10.0), (10.0, 4.0)], 20.0), Some((5.0, -16.0)));
    }

    #[test]
    fn node_scales_follow_importance_relative_to_the_most_important() {
        let mut l = EventLog::new();
        let s0 = Structure::at(l.events(), 0);
        assert_eq!(node_scales(&s0, 3), vec![1.0; 3]);
        l.push(0, EventKind::Score { name: "importance".into(), agent: 0, value: 2.0 });
        l.push(0, EventKind::Score { name: "importance".into(), agent: 1, value: 1.0 });
        l.push(0, EventKind::Score { name: "importance".into(), agent: 9, value: -1.0 });
        l.push(0, EventKind::Score { name: "reputation".into(), agent: 2, value: 5.0 });
        let s = Structure::at(l.events(), l.len());
        let k = node_scales(&s, 3);
        assert_eq!(k[0], SCALE_MAX);
        assert!((k[1] - (SCALE_MIN + SCALE_MAX) / 2.0).abs() < 1e-12);
        assert_eq!(k[2], 1.0, "no importance for agent 2: normal size");
    }

    #[test]
    fn layout_edges_cover_the_topology_and_every_logged_graph_once() {
        let mut l = EventLog::new();
        l.push(0, EventKind::Graph { edges: vec![(0, 1), (1, 1), (2, 0)] });
        l.push(1, EventKind::Graph { edges: vec![(2, 0), (1, 2)] });
        assert_eq!(layout_edges(&[(0, 1)], l.events()), vec![(0, 1), (2, 0), (1, 2)]);
    }

    #[test]
    fn arrows_stop_short_of_the_target_and_skip_unknown_agents() {
        let pos = [(0.0, 0.0), (100.0, 0.0)];
        let (lines, heads) = arrow_paths(&pos, &[(0, 1), (0, 5)], |_| 20.0);
        assert_eq!(lines, "M0.0 0.0L80.0 0.0");
        assert!(heads.starts_with("M80.0 0.0") && heads.ends_with('Z'));
    }

    #[test]
    fn bars_grow_from_zero_on_a_fixed_range() {
        assert_eq!(bar_span(1.0, 0.0, 2.0), (0.0, 50.0));
        assert_eq!(bar_span(-1.0, -1.0, 1.0), (0.0, 50.0));
        assert_eq!(bar_span(1.0, -1.0, 1.0), (50.0, 50.0));
        assert_eq!(bar_span(9.0, 0.0, 2.0), (0.0, 100.0), "clamped");
        let mut l = EventLog::new();
        l.push(0, EventKind::Score { name: "c".into(), agent: 0, value: 0.5 });
        l.push(0, EventKind::Score { name: "c".into(), agent: 1, value: -0.25 });
        l.push(0, EventKind::Score { name: "d".into(), agent: 1, value: 9.0 });
        assert_eq!(score_range(l.events(), "c"), (-0.25, 0.5));
        assert_eq!(score_range(l.events(), "none"), (0.0, 1.0));
    }
}
