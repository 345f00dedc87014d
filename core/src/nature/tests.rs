use super::*;
use crate::scenario::Traits;
use crate::spec::Spec;

fn agent(accuracy: f64, model: &str, diversity: f64) -> Agent {
    Agent {
        name: "A".into(),
        role: String::new(),
        backend: Default::default(),
        model: model.into(),
        traits: Traits { accuracy, diversity, ..Traits::default() },
    }
}

/// `n` multiple-choice items of one difficulty.
fn items(n: u64, difficulty: f64) -> Vec<Problem> {
    let spec = Spec::new("multiple_choice", serde_json::json!({ "difficulty": difficulty }));
    (0..n).map(|s| crate::tasks::generate(&spec, s, 3).main).collect()
}

/// One attempt: a draw from the agent's belief with the stream `draw`.
fn attempt(m: &Mind, draw: u64) -> String {
    let b = m.belief();
    b.answers[b.sample(&mut Rng::new(draw))].clone()
}

#[test]
fn attempts_are_right_as_often_as_skill_and_difficulty_say() {
    for (acc, d) in [(0.7, 0.5), (0.5, 0.8), (0.85, 0.2)] {
        let ps = items(4000, d);
        let a = agent(acc, "", 0.0);
        let hits = ps.iter().enumerate().filter(|(i, p)| p.is_correct(&attempt(&mind(p, &a, 0, *i as u64, 0.0), *i as u64))).count() as f64 / ps.len() as f64;
        let want = p_correct(acc, d);
        assert!((hits - want).abs() < 0.03, "accuracy {acc} difficulty {d}: {hits} vs {want}");
    }
}

#[test]
fn copies_of_one_model_share_mistakes_and_diversity_breaks_it_up() {
    let ps = items(4000, 0.6);
    let both_wrong = |b: &Agent| {
        let a = agent(0.6, "m", 0.0);
        ps.iter()
            .enumerate()
            .filter(|(i, p)| !p.is_correct(&attempt(&mind(p, &a, 0, 9, 0.0), 2 * *i as u64)) && !p.is_correct(&attempt(&mind(p, b, 1, 9, 0.0), 2 * *i as u64 + 1)))
            .count() as f64
            / ps.len() as f64
    };
    let copy = both_wrong(&agent(0.6, "m", 0.0));
    let diverse = both_wrong(&agent(0.6, "m", 1.0));
    let other = both_wrong(&agent(0.6, "other", 0.0));
    let q = 1.0 - p_correct(0.6, 0.6);
    assert!(copy > diverse + 0.02 && diverse > other - 0.01, "copy {copy} diverse {diverse} other model {other}");
    assert!(other > q * q + 0.02, "items still fool different models together: {other} vs independent {}", q * q);
    // Copies also pick the same wrong answer more often than different models do.
    let same_wrong = |b: &Agent| {
        let a = agent(0.6, "m", 0.0);
        let (mut same, mut n) = (0, 0);
        for (i, p) in ps.iter().enumerate() {
            let (x, y) = (attempt(&mind(p, &a, 0, 9, 0.0), 2 * i as u64), attempt(&mind(p, b, 1, 9, 0.0), 2 * i as u64 + 1));
            if !p.is_correct(&x) && !p.is_correct(&y) {
                n += 1;
                same += usize::from(x == y);
            }
        }
        same as f64 / n as f64
    };
    let (c, o) = (same_wrong(&agent(0.6, "m", 0.0)), same_wrong(&agent(0.6, "other", 0.0)));
    assert!(c > o + 0.05, "copies {c} other model {o}");
}

#[test]
fn asking_again_draws_from_the_same_belief() {
    // Two attempts by one agent agree more often than attempts by two copies, which agree
    // more often than attempts by two models.
    let ps = items(3000, 0.6);
    let agree = |a: &Agent, ia: u32, b: &Agent, ib: u32| {
        ps.iter().enumerate().filter(|(i, p)| attempt(&mind(p, a, ia, 4, 0.0), 2 * *i as u64) == attempt(&mind(p, b, ib, 4, 0.0), 2 * *i as u64 + 1)).count() as f64 / ps.len() as f64
    };
    let m = agent(0.6, "m", 0.3);
    let self_again = agree(&m, 0, &m, 0);
    let copies = agree(&m, 0, &m, 1);
    let models = agree(&m, 0, &agent(0.6, "n", 0.3), 1);
    assert!(self_again > copies && copies > models + 0.03, "self {self_again} copies {copies} models {models}");
}

#[test]
fn belief_strength_is_informative_but_not_an_oracle() {
    let ps = items(3000, 0.5);
    let a = agent(0.7, "", 0.0);
    let (mut right, mut wrong) = (vec![], vec![]);
    for (i, p) in ps.iter().enumerate() {
        let b = mind(p, &a, 0, i as u64, 0.0).belief();
        let k = b.sample(&mut Rng::new(i as u64));
        let mass = b.probabilities()[k];
        if p.is_correct(&b.answers[k]) { right.push(mass) } else { wrong.push(mass) }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&right) > mean(&wrong) + 0.08, "{} vs {}", mean(&right), mean(&wrong));
    assert!(wrong.iter().filter(|&&m| m > 0.6).count() > wrong.len() / 20, "some agents are confidently wrong");
}

#[test]
fn arguments_for_wrong_answers_are_flawed_and_right_ones_sound() {
    use crate::argument::{CheckSkill, Finding};
    let ps = items(200, 0.5);
    let a = agent(0.7, "", 0.0);
    let perfect = CheckSkill { detect: 0.99, false_alarm: 0.0 };
    let mut rng = Rng::new(1);
    for (i, p) in ps.iter().enumerate() {
        let m = mind(p, &a, 0, i as u64, 0.0);
        for c in m.candidates() {
            let objected = (0..20).any(|_| c.trace.inspect(perfect, &mut rng) != Finding::Sound);
            assert_eq!(objected, !p.is_correct(&c.answer), "{} for {}: {:?}", c.answer, p.text, c.trace.steps());
        }
        // The order of answers says nothing about which is right.
        let answers: Vec<&String> = m.candidates().iter().map(|c| &c.answer).collect();
        let mut sorted = answers.clone();
        sorted.sort();
        assert_eq!(answers, sorted);
    }
}

#[test]
fn strain_makes_items_harder() {
    let ps = items(2000, 0.5);
    let a = agent(0.7, "", 0.0);
    let acc = |strain: f64| ps.iter().enumerate().filter(|(i, p)| p.is_correct(&attempt(&mind(p, &a, 0, *i as u64, strain), *i as u64))).count() as f64 / ps.len() as f64;
    assert!(acc(0.0) > acc(0.3) + 0.1);
}

#[test]
fn adversaries_are_told_a_wrong_answer_and_colluders_share_it() {
    let ps = items(300, 0.5);
    let mut c = agent(0.7, "", 0.0);
    c.traits.adversary = Adversary::Collude;
    for (i, p) in ps.iter().enumerate() {
        let (x, y) = (mind(p, &c, 0, i as u64, 0.0), mind(p, &c, 1, i as u64, 0.0));
        let tx = &x.candidates()[x.target.unwrap()].answer;
        assert!(!p.is_correct(tx));
        assert_eq!(tx, &y.candidates()[y.target.unwrap()].answer);
    }
}
