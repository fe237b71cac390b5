//! `mcu triage`: the model a file keeps (`status`, `train`) and how good suggestions are on
//! labelled requests (`eval`), so a city can check the figures on its own data.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::Refused;
use super::args::{EvalArgs, MethodArg};
use crate::domain::Catalog;
use crate::triage::eval::{self, Outcome, Scores};
use crate::triage::{Example, Method, train};

/// What `eval` prints as JSON.
#[derive(Debug, Serialize)]
pub struct Report {
    pub method: Method,
    /// Folds of the cross-validation; absent with a test file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folds: Option<u16>,
    /// Requests trained on (a fold's, averaged, when cross-validating).
    pub train: usize,
    pub test: usize,
    #[serde(flatten)]
    pub scores: Scores,
    pub train_ms: u64,
    pub predict_us_p50: f64,
    pub predict_us_p99: f64,
}

/// Reads labelled requests: a JSON object a line with `text`, `topic` (a catalog id) and
/// `department` (a catalog id, or empty for out of scope); other fields are ignored. A bad line
/// is refused with its number.
pub fn read_labelled(path: &Path, catalog: &Catalog) -> anyhow::Result<Vec<Example>> {
    #[derive(serde::Deserialize)]
    struct Line {
        text: String,
        topic: String,
        #[serde(default)]
        department: Option<String>,
    }
    let bytes =
        std::fs::read(path).map_err(|e| Refused(format!("cannot read {}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let at = || format!("{}, line {}", path.display(), i + 1);
        let line = std::str::from_utf8(line)
            .map_err(|_| Refused(format!("{}: not UTF-8", at())))?
            .trim();
        if line.is_empty() {
            continue;
        }
        let l: Line = serde_json::from_str(line).map_err(|e| Refused(format!("{}: {e}", at())))?;
        if catalog.topic(&l.topic).is_none() {
            return Err(Refused(format!("{}: unknown topic `{}`", at(), l.topic)).into());
        }
        let department = l.department.filter(|d| !d.is_empty());
        if let Some(d) = &department
            && catalog.department(d).is_none()
        {
            return Err(Refused(format!("{}: unknown department `{d}`", at())).into());
        }
        out.push(Example {
            text: crate::domain::fields::clip_text(&l.text),
            topic: l.topic,
            department,
        });
    }
    if out.is_empty() {
        return Err(Refused(format!("{}: no labelled requests", path.display())).into());
    }
    Ok(out)
}

pub fn method(arg: MethodArg, labels: usize, min_history: usize) -> Method {
    match arg {
        MethodArg::Auto => Method::for_history(labels, min_history),
        MethodArg::Svm => Method::Svm,
        MethodArg::Bayes => Method::Bayes,
        MethodArg::PrefixBayes => Method::PrefixBayes,
        MethodArg::Keywords => Method::Keywords,
    }
}

/// A method as people say it.
fn method_name(m: Method, en: bool) -> &'static str {
    match (m, en) {
        (Method::Svm, false) => "линейная модель",
        (Method::Svm, true) => "a linear model",
        (Method::Bayes, false) => "наивный Байес",
        (Method::Bayes, true) => "naive Bayes",
        (Method::PrefixBayes, false) => "наивный Байес по началам слов",
        (Method::PrefixBayes, true) => "naive Bayes on word prefixes",
        (Method::Keywords, false) => "ключевые слова справочника",
        (Method::Keywords, true) => "the catalog's keywords",
    }
}

/// Trains on `train` and scores `test`, timing both.
fn run(
    train_set: &[Example],
    test: &[Example],
    catalog: &Catalog,
    method: Method,
    outcomes: &mut Vec<Outcome>,
    predict_us: &mut Vec<f64>,
) -> u64 {
    let began = Instant::now();
    let model = train(train_set, catalog, method);
    let ms = began.elapsed().as_millis() as u64;
    for e in test {
        let t = Instant::now();
        let o = Outcome::of(&model, e);
        predict_us.push(t.elapsed().as_secs_f64() * 1e6);
        outcomes.push(o);
    }
    ms
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `mcu triage eval --train FILE [--test FILE | --folds K]`.
pub fn eval_files(a: &EvalArgs, catalog: &Catalog, min_history: usize) -> anyhow::Result<Report> {
    let Some(train_path) = &a.train else {
        return Err(
            Refused("give --train FILE (and --test FILE), or --holdout-days DAYS".into()).into(),
        );
    };
    let all = read_labelled(train_path, catalog)?;
    match &a.test {
        Some(test_path) => {
            let test = read_labelled(test_path, catalog)?;
            Ok(evaluate(
                &[(all, test)],
                catalog,
                a.method,
                min_history,
                None,
            ))
        }
        None => {
            let k = usize::from(a.folds);
            let splits: Vec<(Vec<Example>, Vec<Example>)> = (0..k)
                .map(|f| {
                    let (test, train): (Vec<Example>, Vec<Example>) =
                        all.iter().cloned().partition(|e| eval::fold_of(e, k) == f);
                    (train, test)
                })
                .collect();
            Ok(evaluate(
                &splits,
                catalog,
                a.method,
                min_history,
                Some(a.folds),
            ))
        }
    }
}

/// Scores the pooled outcomes of every (train, test) split.
pub fn evaluate(
    splits: &[(Vec<Example>, Vec<Example>)],
    catalog: &Catalog,
    arg: MethodArg,
    min_history: usize,
    folds: Option<u16>,
) -> Report {
    let mut outcomes = Vec::new();
    let mut predict_us = Vec::new();
    let mut train_ms = 0;
    let mut trained = 0;
    let mut chosen = Method::Keywords;
    for (train_set, test) in splits {
        chosen = method(arg, train_set.len(), min_history);
        train_ms += run(
            train_set,
            test,
            catalog,
            chosen,
            &mut outcomes,
            &mut predict_us,
        );
        trained += train_set.len();
    }
    let n = splits.len().max(1);
    predict_us.sort_by(f64::total_cmp);
    Report {
        method: chosen,
        folds,
        train: trained / n,
        test: outcomes.len(),
        scores: eval::score(&outcomes),
        train_ms: train_ms / n as u64,
        predict_us_p50: percentile(&predict_us, 0.5),
        predict_us_p99: percentile(&predict_us, 0.99),
    }
}

/// The report for people: the headline figures, then each topic.
pub fn print_table(r: &Report, en: bool) {
    let pct = |v: f64| format!("{:.1} %", v * 100.0);
    let s = &r.scores;
    let t = |ru: &'static str, en_text: &'static str| if en { en_text } else { ru };
    let folds = r
        .folds
        .map(|k| {
            if en {
                format!(" ({k}-fold cross-validation)")
            } else {
                format!(" (перекрёстная проверка по {k} частям)")
            }
        })
        .unwrap_or_default();
    println!(
        "{} {}; {} {} {}{folds}, {} {}",
        t("метод:", "method:"),
        method_name(r.method, en),
        t("обучено на", "trained on"),
        r.train,
        t("обращениях", "requests"),
        t("проверено на", "tested on"),
        r.test
    );
    println!(
        "{} {} ({} {}, {} {}), macro F1 {:.3}",
        t("тема: верно", "topic: right"),
        pct(s.topic.accuracy),
        t("в первых двух:", "top 2:"),
        pct(s.topic.top2),
        t("в первых трёх:", "top 3:"),
        pct(s.topic.top3),
        s.topic.macro_f1
    );
    println!(
        "{} {} ({} {}), macro F1 {:.3}",
        t("ведомство: верно", "department: right"),
        pct(s.department.accuracy),
        t("в первых двух:", "top 2:"),
        pct(s.department.top2),
        s.department.macro_f1
    );
    println!(
        "{}",
        t(
            "когда вероятность ведомства не ниже:",
            "when the department's probability is at least:"
        )
    );
    for c in &s.coverage {
        println!(
            "  {:.1}: {} {} — {} {}, {} {}",
            c.threshold,
            pct(c.share),
            t("обращений", "of requests"),
            t("ведомство верно", "department right"),
            pct(c.department_accuracy),
            t("тема верно", "topic right"),
            pct(c.topic_accuracy)
        );
    }
    for (topic, c) in &s.per_topic {
        println!(
            "  {topic:<16} P {:.3}  R {:.3}  F1 {:.3}  ({})",
            c.precision, c.recall, c.f1, c.support
        );
    }
    println!(
        "{} {} ms; {} p50 {:.0} µs, p99 {:.0} µs",
        if en { "training" } else { "обучение" },
        r.train_ms,
        if en {
            "a suggestion"
        } else {
            "подсказка"
        },
        r.predict_us_p50,
        r.predict_us_p99
    );
}

impl super::Invocation {
    pub(super) async fn triage(&self, command: super::args::TriageCommand) -> anyhow::Result<()> {
        use super::args::TriageCommand;
        match command {
            TriageCommand::Status => {
                let status = self.store.triage_status().await?;
                match self.format {
                    super::Format::Table => match &status {
                        Some(s) => self.print_status(s),
                        None => println!("-"),
                    },
                    _ => println!("{}", serde_json::to_string_pretty(&status)?),
                }
                Ok(())
            }
            TriageCommand::Train => {
                let s = self.store.retrain_triage(&self.triage, true).await?;
                if let Some(s) = s {
                    match self.format {
                        super::Format::Table => self.print_trained(&s),
                        _ => println!("{}", serde_json::to_string_pretty(&s)?),
                    }
                }
                Ok(())
            }
            TriageCommand::Eval(a) => {
                let Some(days) = a.holdout_days else {
                    return Err(Refused("--train FILE or --holdout-days DAYS".into()).into());
                };
                let since = self.store.now() - chrono::Duration::days(i64::from(days));
                let (older, recent) = self.store.triage_labels_split(since).await?;
                if older.is_empty() || recent.is_empty() {
                    return Err(Refused(if self.labels.en {
                        format!(
                            "this file has {} labelled requests closed before the last {days} days and {} within them: both are needed",
                            older.len(),
                            recent.len()
                        )
                    } else {
                        format!(
                            "в этом файле {} размеченных обращений, закрытых раньше последних {days} дн., и {} — за них; нужны и те, и другие",
                            older.len(),
                            recent.len()
                        )
                    })
                    .into());
                }
                let catalog = &self.store.env().catalog;
                let report = evaluate(
                    &[(older, recent)],
                    catalog,
                    a.method,
                    self.triage.min_history,
                    None,
                );
                match self.format {
                    super::Format::Table => print_table(&report, self.labels.en),
                    _ => println!("{}", serde_json::to_string_pretty(&report)?),
                }
                Ok(())
            }
        }
    }

    fn print_status(&self, s: &crate::store::triage::Status) {
        let en = self.labels.en;
        let how = match (s.method, en) {
            (Method::Keywords, false) => "по ключевым словам справочника (своей истории пока мало)",
            (Method::Keywords, true) => "by the catalog's keywords (too little history yet)",
            (Method::Bayes, false) => "наивный Байес по истории города",
            (Method::Bayes, true) => "naive Bayes on the city's history",
            (_, false) => "линейная модель по истории города",
            (_, true) => "a linear model of the city's history",
        };
        let tz = self.store.env().policy.calendar.tz();
        let when = s
            .trained_at
            .map(|t| t.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string())
            .unwrap_or_else(|| "-".into());
        if en {
            println!(
                "suggests {how}; model {} from {} labels, trained {when}",
                s.version, s.labels
            );
            println!(
                "labels now: {} (retrains every {} new; history from {})",
                s.labels_now, self.triage.retrain_every, self.triage.min_history
            );
        } else {
            println!(
                "подсказывает {how}; модель {} по {} размеченным, обучена {when}",
                s.version, s.labels
            );
            println!(
                "размеченных сейчас: {} (переобучается каждые {} новых; своя история — от {})",
                s.labels_now, self.triage.retrain_every, self.triage.min_history
            );
        }
    }

    pub(super) fn print_trained(&self, s: &crate::store::triage::Status) {
        if self.labels.en {
            println!(
                "triage trained on {} labels ({}, model {}, {} ms)",
                s.labels,
                method_name(s.method, true),
                s.version,
                s.train_ms.unwrap_or(0)
            );
        } else {
            println!(
                "подсказки обучены на {} размеченных обращениях ({}, модель {}, {} мс)",
                s.labels,
                method_name(s.method, false),
                s.version,
                s.train_ms.unwrap_or(0)
            );
        }
    }
}
