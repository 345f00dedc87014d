//! Graph layouts in the graph view's coordinate box (`W` × `H`): circle, force-directed
//! (deterministic Fruchterman–Reingold from the circle), and layered (longest path from
//! the sources, for pipelines and conductor plans). Pure, so tested natively.

pub const W: f64 = 600.0;
pub const H: f64 = 420.0;
const MARGIN: f64 = 40.0;

pub type Pos = (f64, f64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Circle,
    Force,
    Layered,
}

impl Layout {
    pub const ALL: [Layout; 3] = [Layout::Force, Layout::Circle, Layout::Layered];
    pub fn name(self) -> &'static str {
        match self {
            Layout::Circle => "circle",
            Layout::Force => "force",
            Layout::Layered => "layered",
        }
    }
    pub fn from_name(s: &str) -> Option<Layout> {
        Self::ALL.into_iter().find(|l| l.name() == s)
    }
}

pub fn compute(layout: Layout, n: usize, edges: &[(u32, u32)]) -> Vec<Pos> {
    match layout {
        Layout::Circle => circle(n),
        Layout::Force => fit(force(n, edges)),
        Layout::Layered => layered(n, edges),
    }
}

pub fn circle(n: usize) -> Vec<Pos> {
    let (cx, cy) = (W / 2.0, H / 2.0);
    let r = (H / 2.0 - MARGIN).max(10.0);
    if n == 1 {
        return vec![(cx, cy)];
    }
    (0..n)
        .map(|i| {
            let a = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n as f64;
            (cx + r * 1.25 * a.cos(), cy + r * a.sin())
        })
        .collect()
}

/// Fruchterman–Reingold with a cooling schedule, started from the circle so the result is
/// the same on every run (no randomness).
pub fn force(n: usize, edges: &[(u32, u32)]) -> Vec<Pos> {
    let mut p = circle(n);
    if n < 3 {
        return p;
    }
    let area = (W - 2.0 * MARGIN) * (H - 2.0 * MARGIN);
    let k = (area / n as f64).sqrt();
    let iters = if n > 100 { 80 } else { 150 };
    let mut temp = W / 10.0;
    let edges: Vec<(usize, usize)> = edges
        .iter()
        .map(|&(a, b)| (a as usize, b as usize))
        .filter(|&(a, b)| a < n && b < n && a != b)
        .collect();
    let mut d = vec![(0.0f64, 0.0f64); n];
    for _ in 0..iters {
        d.iter_mut().for_each(|v| *v = (0.0, 0.0));
        for i in 0..n {
            for j in (i + 1)..n {
                let (dx, dy) = (p[i].0 - p[j].0, p[i].1 - p[j].1);
                let dist = (dx * dx + dy * dy).sqrt().max(0.01);
                let f = k * k / dist;
                let (fx, fy) = (dx / dist * f, dy / dist * f);
                d[i].0 += fx;
                d[i].1 += fy;
                d[j].0 -= fx;
                d[j].1 -= fy;
            }
        }
        for &(a, b) in &edges {
            let (dx, dy) = (p[a].0 - p[b].0, p[a].1 - p[b].1);
            let dist = (dx * dx + dy * dy).sqrt().max(0.01);
            let f = dist * dist / k;
            let (fx, fy) = (dx / dist * f, dy / dist * f);
            d[a].0 -= fx;
            d[a].1 -= fy;
            d[b].0 += fx;
            d[b].1 += fy;
        }
        for i in 0..n {
            let len = (d[i].0 * d[i].0 + d[i].1 * d[i].1).sqrt().max(0.01);
            let step = len.min(temp);
            p[i].0 = (p[i].0 + d[i].0 / len * step).clamp(MARGIN, W - MARGIN);
            p[i].1 = (p[i].1 + d[i].1 / len * step).clamp(MARGIN, H - MARGIN);
        }
        temp *= 0.96;
    }
    p
}

/// Scales and centres positions to fill the box inside the margin (a force layout of a
/// few nodes otherwise sits small in the middle), keeping the aspect ratio.
pub fn fit(mut p: Vec<Pos>) -> Vec<Pos> {
    if p.len() < 2 {
        return p;
    }
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in &p {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let s = ((W - 2.0 * MARGIN) / (x1 - x0).max(1e-9)).min((H - 2.0 * MARGIN) / (y1 - y0).max(1e-9)).min(4.0);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    for q in p.iter_mut() {
        *q = (W / 2.0 + (q.0 - cx) * s, H / 2.0 + (q.1 - cy) * s);
    }
    p
}

/// Layers by longest path from nodes without incoming edges (cycles are broken by visiting
/// order); nodes spread evenly within a layer.
pub fn layered(n: usize, edges: &[(u32, u32)]) -> Vec<Pos> {
    if n == 0 {
        return vec![];
    }
    let mut depth = vec![0usize; n];
    // Bellman-Ford style relaxation capped at n passes: terminates on cycles.
    for _ in 0..n {
        let mut changed = false;
        for &(a, b) in edges {
            let (a, b) = (a as usize, b as usize);
            if a < n && b < n && a != b && depth[b] < depth[a] + 1 && depth[a] + 1 < n {
                // Only follow edges "forward" in index order when they close a cycle.
                if a < b || depth[a] < depth[b] {
                    depth[b] = depth[a] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let layers = depth.iter().max().copied().unwrap_or(0) + 1;
    let mut counts = vec![0usize; layers];
    depth.iter().for_each(|&d| counts[d] += 1);
    let mut seen = vec![0usize; layers];
    (0..n)
        .map(|i| {
            let d = depth[i];
            let x = if layers == 1 { W / 2.0 } else { MARGIN + (W - 2.0 * MARGIN) * d as f64 / (layers - 1) as f64 };
            let k = seen[d];
            seen[d] += 1;
            let y = MARGIN + (H - 2.0 * MARGIN) * (k as f64 + 0.5) / counts[d] as f64;
            (x, y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(p: &[Pos]) -> bool {
        p.iter().all(|&(x, y)| x.is_finite() && y.is_finite() && (0.0..=W).contains(&x) && (0.0..=H).contains(&y))
    }

    #[test]
    fn every_layout_places_every_node_inside_the_box() {
        let ring: Vec<(u32, u32)> = (0..30).map(|i| (i, (i + 1) % 30)).collect();
        for l in Layout::ALL {
            for n in [0usize, 1, 2, 5, 30] {
                let e: Vec<_> = ring.iter().copied().filter(|&(a, b)| (a as usize) < n && (b as usize) < n).collect();
                let p = compute(l, n, &e);
                assert_eq!(p.len(), n);
                assert!(inside(&p), "{l:?} {n}");
            }
        }
    }

    #[test]
    fn force_is_deterministic_and_keeps_nodes_apart() {
        let e: Vec<(u32, u32)> = (1..12).map(|i| (0, i)).collect();
        let a = force(12, &e);
        assert_eq!(a, force(12, &e));
        for i in 0..12 {
            for j in (i + 1)..12 {
                let d = ((a[i].0 - a[j].0).powi(2) + (a[i].1 - a[j].1).powi(2)).sqrt();
                assert!(d > 5.0, "{i} {j} {d}");
            }
        }
    }

    #[test]
    fn fit_fills_the_box_without_leaving_it() {
        let p = fit(vec![(290.0, 200.0), (310.0, 220.0), (300.0, 210.0)]);
        assert!(inside(&p));
        let w = p.iter().map(|q| q.0).fold(f64::NEG_INFINITY, f64::max) - p.iter().map(|q| q.0).fold(f64::INFINITY, f64::min);
        assert!(w > 70.0, "{p:?}");
    }

    #[test]
    fn layered_puts_a_chain_in_increasing_columns() {
        let p = layered(4, &[(0, 1), (1, 2), (2, 3)]);
        assert!(p.windows(2).all(|w| w[0].0 < w[1].0), "{p:?}");
        // A cycle must not hang or overflow.
        let c = layered(3, &[(0, 1), (1, 2), (2, 0)]);
        assert!(inside(&c));
    }
}
