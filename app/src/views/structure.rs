//! The structure panel: what a mechanism reports of its team as the run goes, at the
//! player's cursor. Score bars per score name (reputation, contribution, share, ...), the
//! pairwise judgment matrix with a judge filter, live metric curves (e.g. regret), the
//! choices made per task, the working groups and who is out of the team.
//!
//! Generic over mechanisms: everything is read from the structure events of the log, and
//! the panel only appears when a log has some. Axes and row sets come from the whole log,
//! so scrubbing changes values, never the layout.

use crate::overlay;
use crate::run::Player;
use crate::views::plot::{LinePlot, Series};
use council_core::event::{AgentId, EventKind};
use council_core::structure::{self, Structure};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// Agent names of the run's cast; ids beyond it read "#<id>".
fn agent_name(names: &[String], a: AgentId) -> String {
    names.get(a as usize).cloned().unwrap_or_else(|| format!("#{a}"))
}

#[component]
pub fn StructurePanel() -> impl IntoView {
    let p = expect_context::<Player>();
    let shown = Memo::new(move |_| p.run.with(|r| structure::has_structure(r.log.events())));
    // The whole run's structure: which rows, columns and names exist at all.
    let end = Memo::new(move |_| p.run.with(|r| Structure::at(r.log.events(), r.log.len())));
    let names = Memo::new(move |_| p.run.with(|r| r.cast.agents.iter().map(|a| a.name.clone()).collect::<Vec<_>>()));
    move || {
        shown.get().then(|| {
            view! {
                <section class="structure-pane" data-testid="structure" aria-labelledby="structure-title">
                    <h3 id="structure-title">"Structure"</h3>
                    <Membership names=names />
                    <ScoreBars end=end names=names />
                    <JudgmentMatrix end=end names=names />
                    <Curves />
                    <Choices />
                </section>
            }
        })
    }
}

/// Working groups and agents out of the team, as text (the graph draws them too).
#[component]
fn Membership(names: Memo<Vec<String>>) -> impl IntoView {
    let p = expect_context::<Player>();
    let groups = move || {
        let g = p.structure.with(|s| s.groups.clone())?;
        let items = g
            .groups
            .iter()
            .enumerate()
            .map(|(k, members)| {
                let who = names.with(|n| members.iter().map(|m| agent_name(n, *m)).collect::<Vec<_>>().join(", "));
                view! { <li data-group=k>{format!("{} {}: {who}", g.label, k + 1)}</li> }
            })
            .collect_view();
        Some(view! { <div class="groups"><h4>"Groups"</h4><ul data-testid="groups">{items}</ul></div> })
    };
    let out = move || {
        let inactive = p.structure.with(|s| s.inactive.clone());
        (!inactive.is_empty()).then(|| {
            let items = inactive
                .into_iter()
                .map(|(a, reason)| {
                    let who = names.with(|n| agent_name(n, a));
                    view! { <li data-agent=a>{who}<span class="muted">{format!(" — {reason}")}</span></li> }
                })
                .collect_view();
            view! { <div class="inactive"><h4>"Out of the team"</h4><ul data-testid="inactive">{items}</ul></div> }
        })
    };
    view! { <div class="membership">{groups}{out}</div> }
}

/// One block of bars per score name; each agent's bar is its latest value at the cursor,
/// on the range the score takes over the whole run.
#[component]
fn ScoreBars(end: Memo<Structure>, names: Memo<Vec<String>>) -> impl IntoView {
    let p = expect_context::<Player>();
    let blocks = Memo::new(move |_| {
        let ranges: BTreeMap<String, (f64, f64)> = p.run.with(|r| {
            end.with(|s| s.scores.keys().map(|k| (k.clone(), overlay::score_range(r.log.events(), k))).collect())
        });
        end.with(|s| {
            s.scores
                .iter()
                .map(|(k, agents)| (k.clone(), ranges[k], agents.keys().copied().collect::<Vec<AgentId>>()))
                .collect::<Vec<_>>()
        })
    });
    move || {
        blocks
            .get()
            .into_iter()
            .map(|(score, (lo, hi), agents)| {
                let rows = agents
                    .into_iter()
                    .map(|a| {
                        let score = score.clone();
                        let who = names.with_untracked(|n| agent_name(n, a));
                        let v = Memo::new({
                            let score = score.clone();
                            move |_| p.structure.with(|s| s.score(&score, a))
                        });
                        let span = move || v.get().map(|v| overlay::bar_span(v, lo, hi)).unwrap_or((0.0, 0.0));
                        let out = Memo::new(move |_| p.structure.with(|s| !s.is_active(a)));
                        view! {
                            <li data-agent=a data-value=move || v.get().map(overlay::fmt_num).unwrap_or_default()
                                class:inactive=move || out.get()>
                                <span class="who">{who.clone()}</span>
                                <span class="track" role="meter" aria-label=format!("{score} of {who}")
                                    aria-valuemin=lo aria-valuemax=hi aria-valuenow=move || v.get().unwrap_or(lo)
                                    aria-valuetext=move || v.get().map(overlay::fmt_num).unwrap_or_else(|| "none yet".into())>
                                    <span class="fill" class:negative=move || v.get().is_some_and(|v| v < 0.0)
                                        style:margin-left=move || format!("{:.1}%", span().0)
                                        style:width=move || format!("{:.1}%", span().1)></span>
                                </span>
                                <span class="num">{move || v.get().map(overlay::fmt_num).unwrap_or_else(|| "—".into())}</span>
                            </li>
                        }
                    })
                    .collect_view();
                view! {
                    <figure class="scores" data-testid="score-bars" data-score=score.clone()>
                        <figcaption>{score.clone()}</figcaption>
                        <ul>{rows}</ul>
                    </figure>
                }
            })
            .collect_view()
    }
}

/// Pairwise judgments: row = the preferred agent's answer, column = the other one; counts
/// or win shares, over every judge or one.
#[component]
fn JudgmentMatrix(end: Memo<Structure>, names: Memo<Vec<String>>) -> impl IntoView {
    let p = expect_context::<Player>();
    let axes = Memo::new(move |_| end.with(|s| (s.judged(), s.judges().into_iter().collect::<Vec<_>>())));
    let judge: RwSignal<Option<AgentId>> = RwSignal::new(None);
    let shares = RwSignal::new(false);
    move || {
        let (judged, judges) = axes.get();
        if judged.is_empty() {
            return None;
        }
        let head = judged
            .iter()
            .map(|b| view! { <th scope="col">{names.with(|n| agent_name(n, *b))}</th> })
            .collect_view();
        let judged2 = judged.clone();
        let body = move || {
            let sel = judge.get();
            let share_mode = shares.get();
            p.structure.with(|s| {
                judged2
                    .iter()
                    .map(|&a| {
                        let cells = judged2
                            .iter()
                            .map(|&b| {
                                if a == b {
                                    return view! { <td class="diag" aria-hidden="true"></td> }.into_any();
                                }
                                let wins = s.wins(sel, a, b);
                                let share = s.win_share(sel, a, b);
                                let text = if share_mode {
                                    share.map(|v| format!("{:.0}%", 100.0 * v)).unwrap_or_default()
                                } else if share.is_some() {
                                    wins.to_string()
                                } else {
                                    String::new()
                                };
                                let label = names.with(|n| {
                                    let lost = s.wins(sel, b, a);
                                    format!("{} preferred over {}: {wins} of {} comparisons", agent_name(n, a), agent_name(n, b), wins + lost)
                                });
                                view! {
                                    <td data-row=a data-col=b data-wins=wins aria-label=label
                                        class:empty=share.is_none()
                                        style:--share=share.map(|v| format!("{v:.3}")).unwrap_or_else(|| "0".into())>{text}</td>
                                }
                                .into_any()
                            })
                            .collect_view();
                        view! { <tr><th scope="row">{names.with(|n| agent_name(n, a))}</th>{cells}</tr> }
                    })
                    .collect_view()
            })
        };
        let options = judges
            .iter()
            .map(|j| view! { <option value=j.to_string()>{names.with(|n| agent_name(n, *j))}</option> })
            .collect_view();
        Some(view! {
            <div class="judgments">
                <div class="pane-head">
                    <h4>"Pairwise judgments"</h4>
                    <label>"judge "
                        <select data-testid="judge-filter" aria-label="Show the judgments of"
                            on:change=move |ev| judge.set(event_target_value(&ev).parse().ok())>
                            <option value="all">"every judge"</option>
                            {options}
                        </select>
                    </label>
                    <button data-testid="judgment-shares" aria-pressed=move || shares.get().to_string()
                        on:click=move |_| shares.update(|v| *v = !*v)>
                        {move || if shares.get() { "show counts" } else { "show win shares" }}
                    </button>
                </div>
                <div class="matrix-scroll">
                    <table class="judgment-matrix" data-testid="judgment-matrix"
                        data-judge=move || judge.get().map(|j| j.to_string()).unwrap_or_else(|| "all".into())>
                        <caption>{move || if shares.get() { "Share of comparisons the row won against the column" } else { "Times the row was preferred over the column" }}</caption>
                        <thead><tr><th scope="col">"preferred \\ over"</th>{head}</tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            </div>
        })
    }
}

/// Every metric the run reports more than once, drawn up to the cursor on the axes of the
/// whole run (the curve grows as the run plays).
#[component]
fn Curves() -> impl IntoView {
    let p = expect_context::<Player>();
    let curves = Memo::new(move |_| p.run.with(|r| structure::curves(r.log.events())));
    let shown = Memo::new(move |_| {
        let c = p.cursor.get();
        curves.with(|cs| cs.iter().map(|cv| cv.upto(c).count()).collect::<Vec<_>>())
    });
    move || {
        let counts = shown.get();
        let plots = curves.with(|cs| {
            cs.iter()
                .zip(counts)
                .map(|(cv, k)| {
                    let xs = cv.points.iter().map(|p| p.1);
                    let ys = cv.points.iter().map(|p| p.2);
                    let x_range = (xs.clone().fold(f64::INFINITY, f64::min), xs.fold(f64::NEG_INFINITY, f64::max));
                    let (lo, hi) = (ys.clone().fold(f64::INFINITY, f64::min), ys.fold(f64::NEG_INFINITY, f64::max));
                    let y_range = if hi - lo < 1e-12 { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
                    let points: Vec<(f64, f64)> = cv.points.iter().take(k).map(|p| (p.1, p.2)).collect();
                    let series = vec![Series { label: cv.name.clone(), points, band: None }];
                    view! {
                        <div class="curve" data-testid="curve" data-metric=cv.name.clone() data-points=k>
                            <LinePlot series=series title=cv.name.clone() x_range=x_range y_range=y_range x_label=cv.x_label />
                        </div>
                    }
                })
                .collect_view()
        });
        view! { <div class="plots">{plots}</div> }
    }
}

/// Choices so far (e.g. the topology picked for each task), the latest marked, with a tally.
#[component]
fn Choices() -> impl IntoView {
    let p = expect_context::<Player>();
    let any = Memo::new(move |_| p.run.with(|r| r.log.events().iter().any(|e| matches!(e.kind, EventKind::Choice { .. }))));
    move || {
        if !any.get() {
            return None;
        }
        let choices = p.structure.with(|s| s.choices.clone());
        let mut tally: BTreeMap<(String, String), usize> = BTreeMap::new();
        for c in &choices {
            *tally.entry((c.name.clone(), c.value.clone())).or_default() += 1;
        }
        let tally = tally.into_iter().map(|((n, v), k)| format!("{n} {v}: {k}")).collect::<Vec<_>>().join(" · ");
        let last = choices.len().checked_sub(1);
        let items = choices
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let value = c.value.clone();
                view! {
                    <li class:current=Some(i) == last data-name=c.name.clone() data-value=value
                        aria-current=(Some(i) == last).then_some("step")>
                        <span class="muted">{format!("R{} {}", c.round, c.name)}</span>" "{c.value}
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <div class="choices">
                <h4>"Choices"</h4>
                <ol data-testid="choices" aria-label="Choices so far">{items}</ol>
                <p class="muted tally" data-testid="choice-tally">{tally}</p>
            </div>
        })
    }
}
