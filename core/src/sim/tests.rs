use super::*;
use crate::backend::Backend;
use crate::scenario::Adversary;

fn candidate(answer: &str, mass: f64, sound: bool) -> Candidate {
    let steps = vec![format!("first step towards {answer}"), format!("so {answer}")];
    let trace = if sound { Trace::sound(steps) } else { Trace::flawed(steps, 1, 0.5) };
    Candidate { answer: answer.into(), weight: libm::log(mass), trace }
}

/// A mind that believes `B` (0.7) over `A` (0.2) and `C` (0.1); only `A` is argued soundly.
fn mind() -> Mind {
    Mind::new(vec![candidate("A", 0.2, true), candidate("B", 0.7, false), candidate("C", 0.1, false)], 0.5, None)
}

fn req(purpose: &str, id: u64) -> AskRequest {
    AskRequest {
        id,
        agent: 0,
        agent_name: "Ada".into(),
        role: String::new(),
        backend: Backend::Sim,
        purpose: purpose.into(),
        round: 1,
        question: "Q?".into(),
        options: vec![],
        format: "option".into(),
        domain: "math".into(),
        instruction: String::new(),
        own: None,
        peers: vec![],
        item: 0,
        draft: None,
        partner: None,
    }
}

fn view(name: &str, answer: &str, trace: Option<Trace>, confidence: Option<f64>) -> PeerView {
    PeerView { agent: 1, name: name.into(), answer: answer.into(), confidence, explanation: String::new(), trace }
}

/// Share of `n` replies (each with its own stream) for which `ok` holds.
fn rate(traits: &Traits, mind: &Mind, make: impl Fn(u64) -> AskRequest, ok: impl Fn(&AgentReply) -> bool) -> f64 {
    let n = 4000;
    (0..n).filter(|&i| ok(&reply(traits, &make(i), mind, &mut Rng::new(i)))).count() as f64 / n as f64
}

fn says(a: &'static str) -> impl Fn(&AgentReply) -> bool {
    move |r| r.answer.as_deref() == Some(a)
}

#[test]
fn a_fresh_answer_is_a_draw_from_the_belief_with_its_argument() {
    let t = Traits::default();
    let b = rate(&t, &mind(), |i| req("answer", i), says("B"));
    assert!((b - 0.7).abs() < 0.03, "{b}");
    let r = reply(&t, &req("answer", 1), &mind(), &mut Rng::new(2));
    assert!(r.text.contains("so "), "the reasoning is in the text: {}", r.text);
    assert!(r.trace.is_some());
    assert!(r.tokens > 5);
}

#[test]
fn informative_confidence_follows_belief_and_random_does_not() {
    let m = mind();
    let conf_of = |t: &Traits, a: &str| {
        let v: Vec<f64> = (0..3000).map(|i| reply(t, &req("answer", i), &m, &mut Rng::new(i))).filter(|r| r.answer.as_deref() == Some(a)).map(|r| r.conf()).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let informative = Traits::default();
    assert!(conf_of(&informative, "B") > conf_of(&informative, "A") + 0.3);
    let random = Traits { calibration: Calibration::Random, ..Traits::default() };
    assert!((conf_of(&random, "B") - conf_of(&random, "A")).abs() < 0.05);
}

#[test]
fn a_sound_argument_convinces_a_good_judge_more_than_a_poor_one() {
    let m = mind();
    let with_peer = |i: u64| {
        let mut r = req("revise", i);
        r.own = Some(view("Ada", "B", None, Some(0.7)));
        let sound = m.candidates()[0].trace.clone();
        r.peers = vec![view("Ben", "A", Some(sound), None)];
        r
    };
    let good = Traits { judge_accuracy: Some(0.9), conformity: 0.0, stubbornness: 0.0, ..Traits::default() };
    let poor = Traits { judge_accuracy: Some(0.2), conformity: 0.0, stubbornness: 0.0, ..Traits::default() };
    let (g, p) = (rate(&good, &m, with_peer, says("A")), rate(&poor, &m, with_peer, says("A")));
    assert!(g > p + 0.2, "good judge {g}, poor judge {p}");
    // Without an argument to check, only social pressure moves it: no conformity, no move
    // beyond its own belief.
    let bare = |i: u64| {
        let mut r = with_peer(i);
        r.peers[0].trace = None;
        r
    };
    let moved = rate(&good, &m, bare, says("A"));
    assert!((moved - 0.2).abs() < 0.03, "{moved}");
}

#[test]
fn a_flawed_argument_persuades_a_careful_listener_less_than_a_sound_one() {
    let m = mind();
    let t = Traits { judge_accuracy: Some(0.8), conformity: 0.0, stubbornness: 0.0, ..Traits::default() };
    let argued = |answer: &'static str, sound: bool| {
        move |i: u64| {
            let mut r = req("revise", i);
            r.own = Some(view("Ada", "B", None, None));
            r.peers = vec![view("Ben", answer, Some(candidate(answer, 0.5, sound).trace), None)];
            r
        }
    };
    let c_flawed = rate(&t, &m, argued("C", false), says("C"));
    let c_sound = rate(&t, &m, argued("C", true), says("C"));
    assert!(c_sound > c_flawed + 0.1, "sound {c_sound} flawed {c_flawed}");
}

#[test]
fn conformity_yields_to_a_confident_majority_and_stubbornness_resists() {
    let m = mind();
    let crowd = |i: u64| {
        let mut r = req("revise", i);
        r.own = Some(view("Ada", "B", None, Some(0.7)));
        r.peers = (0..4).map(|k| view(&format!("P{k}"), "C", None, Some(0.9))).collect();
        r
    };
    let easy = Traits { conformity: 0.9, stubbornness: 0.1, ..Traits::default() };
    let stubborn = Traits { conformity: 0.1, stubbornness: 0.9, ..Traits::default() };
    let (e, s) = (rate(&easy, &m, crowd, says("C")), rate(&stubborn, &m, crowd, says("C")));
    assert!(e > s + 0.4, "easy-going {e}, stubborn {s}");
    // Shown confidence weighs: a hesitant crowd presses less.
    let hesitant = |i: u64| {
        let mut r = crowd(i);
        r.peers.iter_mut().for_each(|p| p.confidence = Some(0.3));
        r
    };
    assert!(rate(&easy, &m, hesitant, says("C")) < e - 0.1);
}

#[test]
fn reflection_finds_own_flaws_with_recall_and_sometimes_doubts_sound_work() {
    let m = mind();
    let own = |answer: &'static str| {
        move |i: u64| {
            let mut r = req("reflect", i);
            r.own = Some(view("Ada", answer, None, Some(0.7)));
            r
        }
    };
    let sharp = Traits { error_recall: Some(0.9), false_alarm: 0.05, stubbornness: 0.0, ..Traits::default() };
    let dull = Traits { error_recall: Some(0.1), false_alarm: 0.05, stubbornness: 0.0, ..Traits::default() };
    let left_b = |t: &Traits| 1.0 - rate(t, &m, own("B"), says("B"));
    assert!(left_b(&sharp) > left_b(&dull) + 0.2, "sharp {} dull {}", left_b(&sharp), left_b(&dull));
    // A sound answer (A) is mostly kept by a careful self-checker.
    let kept_a = rate(&Traits { false_alarm: 0.02, ..sharp.clone() }, &m, own("A"), says("A"));
    assert!(kept_a > 0.5, "{kept_a}");
}

#[test]
fn a_judge_weighs_arguments_as_well_as_its_own_belief() {
    let m = mind();
    let pair = |i: u64| {
        let mut r = req("judge", i);
        r.options = vec!["A".into(), "B".into()];
        r.peers = vec![
            view("Ben", "A", Some(m.candidates()[0].trace.clone()), None),
            view("Cy", "B", Some(m.candidates()[1].trace.clone()), None),
        ];
        r
    };
    let good = Traits { judge_accuracy: Some(0.95), false_alarm: 0.02, ..Traits::default() };
    let poor = Traits { judge_accuracy: Some(0.15), false_alarm: 0.3, ..Traits::default() };
    let (g, p) = (rate(&good, &m, pair, says("A")), rate(&poor, &m, pair, says("A")));
    // Its own lean towards B costs even a good judge (see `CheckSkill::leaning`).
    assert!(g > 0.4 && g > p + 0.3, "good {g} poor {p}");
}

#[test]
fn a_reviewer_flags_flawed_results_by_checking_them() {
    let m = mind();
    let review = |answer: &'static str, sound: bool| {
        move |i: u64| {
            let mut r = req("check", i);
            r.peers = vec![view("Ben", answer, Some(candidate(answer, 0.5, sound).trace), None)];
            r
        }
    };
    let t = Traits { judge_accuracy: Some(0.9), false_alarm: 0.05, ..Traits::default() };
    let flags_b = rate(&t, &m, review("B", false), says("wrong"));
    let flags_a = rate(&t, &m, review("A", true), says("wrong"));
    assert!(flags_b > flags_a + 0.3, "flawed {flags_b} sound {flags_a}");
}

#[test]
fn an_adversary_pushes_its_target_whatever_it_believes() {
    let m = Mind::new(mind().candidates().to_vec(), 0.5, Some(2));
    let t = Traits { adversary: Adversary::FixedWrong, ..Traits::default() };
    assert_eq!(rate(&t, &m, |i| req("answer", i), says("C")), 1.0);
    let mut r = req("revise", 1);
    r.own = Some(view("Ada", "C", None, None));
    r.peers = vec![view("Ben", "A", Some(m.candidates()[0].trace.clone()), Some(0.99))];
    assert_eq!(reply(&t, &r, &m, &mut Rng::new(1)).answer.as_deref(), Some("C"));
}
