//! Small SVG plots drawn by hand (no JS chart library): line plots with optional 95%
//! interval bands, and heat maps. Inputs are plain numbers, so callers decide what to show.

use leptos::prelude::*;

/// One line: label, points (x, y), optional interval (lo, hi) per point.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub band: Option<Vec<(f64, f64)>>,
}

const PW: f64 = 320.0;
const PH: f64 = 160.0;
const L: f64 = 36.0;
const R: f64 = 8.0;
const T: f64 = 8.0;
const B: f64 = 24.0;

/// Palette shared by plots and the graph (answers, agents), chosen to read on both themes.
pub const PALETTE: [&str; 10] =
    ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"];

pub fn color(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

fn extent(vals: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return None;
    }
    if (hi - lo).abs() < 1e-12 {
        Some((lo - 0.5, hi + 0.5))
    } else {
        Some((lo, hi))
    }
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 100.0 || (v.fract().abs() < 1e-9) {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// A line plot. `y_range` fixes the y axis (e.g. 0..1 for accuracy), `x_range` the x axis
/// (a curve drawn up to the replay's cursor keeps the whole run's axes); `marker_x` draws a
/// vertical line (the replay's current round).
#[component]
pub fn LinePlot(
    series: Vec<Series>,
    #[prop(into)] title: String,
    #[prop(optional)] y_range: Option<(f64, f64)>,
    #[prop(optional)] x_range: Option<(f64, f64)>,
    #[prop(optional, into)] marker_x: Option<Signal<f64>>,
    #[prop(optional, into)] x_label: String,
) -> impl IntoView {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let Some((x0, x1)) = x_range.filter(|r| r.0.is_finite() && r.1.is_finite() && r.1 > r.0).or_else(|| extent(xs)) else {
        return view! { <figure class="plot empty"><figcaption>{title}</figcaption><p class="muted">"no data"</p></figure> }
            .into_any();
    };
    let ys = series.iter().flat_map(|s| {
        s.points.iter().map(|p| p.1).chain(s.band.iter().flatten().flat_map(|b| [b.0, b.1]))
    });
    let (y0, y1) = y_range.or_else(|| extent(ys)).unwrap_or((0.0, 1.0));
    let sx = move |x: f64| L + (x - x0) / (x1 - x0) * (PW - L - R);
    let sy = move |y: f64| PH - B - (y - y0) / (y1 - y0) * (PH - T - B);
    let lines = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let pts: String = s.points.iter().map(|&(x, y)| format!("{:.1},{:.1} ", sx(x), sy(y))).collect();
            let band = s.band.as_ref().map(|b| {
                let upper = s.points.iter().zip(b).map(|(p, b)| format!("{:.1},{:.1} ", sx(p.0), sy(b.1)));
                let lower = s.points.iter().zip(b).rev().map(|(p, b)| format!("{:.1},{:.1} ", sx(p.0), sy(b.0)));
                let d: String = upper.chain(lower).collect();
                view! { <polygon class="band" points=d fill=color(i) /> }
            });
            let dots = (s.points.len() <= 40).then(|| {
                s.points
                    .iter()
                    .map(|&(x, y)| view! { <circle cx=sx(x) cy=sy(y) r="2.5" fill=color(i) /> })
                    .collect_view()
            });
            view! {
                <g class="series">
                    <title>{s.label.clone()}</title>
                    {band}
                    <polyline points=pts fill="none" stroke=color(i) stroke-width="2" />
                    {dots}
                </g>
            }
        })
        .collect_view();
    let legend = (series.len() > 1 && series.len() <= 12).then(|| {
        series
            .iter()
            .enumerate()
            .map(|(i, s)| view! { <span class="key"><i style:background=color(i)></i>{s.label.clone()}</span> })
            .collect_view()
    });
    let marker = marker_x.map(|m| {
        view! {
            <line class="marker" x1=move || sx(m.get().clamp(x0, x1)) x2=move || sx(m.get().clamp(x0, x1))
                y1=T y2=PH - B />
        }
    });
    view! {
        <figure class="plot">
            <figcaption>{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {PW} {PH}") role="img" aria-label=title>
                <line class="axis" x1=L y1=PH - B x2=PW - R y2=PH - B />
                <line class="axis" x1=L y1=T x2=L y2=PH - B />
                <text class="tick" x=L - 4.0 y=sy(y1) + 4.0 text-anchor="end">{fmt_tick(y1)}</text>
                <text class="tick" x=L - 4.0 y=sy(y0) text-anchor="end">{fmt_tick(y0)}</text>
                <text class="tick" x=L y=PH - 8.0>{fmt_tick(x0)}</text>
                <text class="tick" x=PW - R y=PH - 8.0 text-anchor="end">{fmt_tick(x1)}</text>
                <text class="tick" x=(L + PW) / 2.0 y=PH - 8.0 text-anchor="middle">{x_label}</text>
                {lines}
                {marker}
            </svg>
            <div class="legend">{legend}</div>
        </figure>
    }
    .into_any()
}

/// A heat map: `values[row][col]` over the x (columns) and y (rows) labels; NaN cells are
/// blank. With `intervals` (same shape, (lo, hi)), each cell's tooltip gives its interval.
#[component]
pub fn HeatMap(
    #[prop(into)] title: String,
    x_labels: Vec<String>,
    y_labels: Vec<String>,
    values: Vec<Vec<f64>>,
    #[prop(optional)] intervals: Option<Vec<Vec<(f64, f64)>>>,
) -> impl IntoView {
    let (lo, hi) = extent(values.iter().flatten().copied()).unwrap_or((0.0, 1.0));
    let cols = x_labels.len().max(1) as f64;
    let rows = y_labels.len().max(1) as f64;
    let cw = (PW - L - R) / cols;
    let ch = (PH - T - B) / rows;
    let cells = values
        .iter()
        .enumerate()
        .flat_map(|(r, row)| {
            let intervals = &intervals;
            row.iter().enumerate().map(move |(c, v)| {
                let interval = intervals.as_ref().and_then(|iv| iv.get(r)?.get(c).copied()).filter(|(lo, hi)| lo.is_finite() && hi.is_finite());
                let t = if v.is_finite() { (v - lo) / (hi - lo) } else { f64::NAN };
                let fill = if t.is_finite() {
                    format!("hsl({:.0},70%,{:.0}%)", 220.0 - 180.0 * t, 35.0 + 25.0 * t)
                } else {
                    "transparent".into()
                };
                let x = L + c as f64 * cw;
                let y = T + (rows - 1.0 - r as f64) * ch;
                let label = if v.is_finite() { format!("{v:.2}") } else { String::new() };
                let tip = match interval {
                    Some((lo, hi)) if v.is_finite() => format!("{v:.3} (95% interval {lo:.3}–{hi:.3})"),
                    _ => label.clone(),
                };
                view! {
                    <g>
                        <rect x=x y=y width=cw height=ch fill=fill><title>{tip}</title></rect>
                        {(cw > 28.0 && ch > 14.0).then(|| view! {
                            <text class="cell" x=x + cw / 2.0 y=y + ch / 2.0 + 4.0 text-anchor="middle">{label}</text>
                        })}
                    </g>
                }
            })
        })
        .collect_view();
    let xl = x_labels
        .into_iter()
        .enumerate()
        .map(|(i, s)| view! { <text class="tick" x=L + (i as f64 + 0.5) * cw y=PH - 8.0 text-anchor="middle">{s}</text> })
        .collect_view();
    let yl = y_labels
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            view! { <text class="tick" x=L - 4.0 y=T + (rows - 0.5 - i as f64) * ch + 4.0 text-anchor="end">{s}</text> }
        })
        .collect_view();
    view! {
        <figure class="plot">
            <figcaption>{title.clone()}</figcaption>
            <svg viewBox=format!("0 0 {PW} {PH}") role="img" aria-label=title>{cells}{xl}{yl}</svg>
        </figure>
    }
}
