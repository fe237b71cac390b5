//! The commands that move whole files: `mcu import` (streamed, all or nothing, then triage
//! trains on the labelled history), `mcu export`, `mcu generate` (a demo corpus as an import
//! file) and `mcu repair` (what no longer reads goes aside).

use anyhow::Context;
use std::io::Write;
use uuid::Uuid;

use super::args::Format;
use super::{Invocation, Refused, english, import, output};
use crate::domain::mutation::{Mutation, Op};
use crate::store::{Cursor, Filter, Sort, Store};

impl Invocation {
    pub(super) async fn import(&self, file: &std::path::Path) -> anyhow::Result<()> {
        use crate::store::bulk::{Chunk, ImportFailed};
        // Mutations per chunk handed to the store's thread, and chunks in flight: the memory
        // an import holds whatever the file's size.
        const CHUNK: usize = 1_000;
        const IN_FLIGHT: usize = 2;
        let source = if file.as_os_str() == "-" {
            None
        } else {
            Some(
                std::fs::File::open(file)
                    .with_context(|| format!("cannot read {}", file.display()))?,
            )
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(IN_FLIGHT);
        let (lang, name) = (self.labels.lang(), file.display().to_string());
        let (operator, now) = (self.operator.clone(), self.store.now());
        // The reader runs beside the store's thread; `End` goes only after the last line
        // passed, so a refused line (or a read failure) rolls everything back.
        let reader = tokio::task::spawn_blocking(move || {
            // Bytes, not text: the parser names the line that is not UTF-8.
            let input: Box<dyn std::io::BufRead> = match source {
                Some(f) => Box::new(std::io::BufReader::with_capacity(1 << 16, f)),
                None => Box::new(std::io::stdin().lock()),
            };
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut store_gone = false;
            let create = |new| Op::Create(Box::new(new));
            import::read(
                input,
                lang,
                |no, new| {
                    chunk.push((
                        no,
                        Mutation::new(Uuid::now_v7(), &operator, now, create(new)),
                    ));
                    if chunk.len() == CHUNK {
                        store_gone = tx.send(Chunk::Rows(std::mem::take(&mut chunk))).is_err();
                    }
                    !store_gone
                },
                |w| eprintln!("mcu: {name}: {w}"),
            )?;
            if !store_gone && tx.send(Chunk::Rows(chunk)).is_ok() {
                let _ = tx.send(Chunk::End);
            }
            Ok::<_, import::Fault>(())
        });
        let stored = self.store.import(rx).await;
        let read = reader.await.context("the import reader stopped")?;
        let nothing = |why: String| {
            Refused(if english() {
                format!("{}: {why}; nothing imported", file.display())
            } else {
                format!("{}: {why}; ничего не импортировано", file.display())
            })
        };
        let read_stopped_at = match &read {
            Err(import::Fault::Line(n, _)) => Some(*n),
            _ => None,
        };
        match (stored, read) {
            (Ok(done), Ok(())) => {
                let (created, skipped) = (done.created, done.skipped);
                let total = created + skipped;
                if self.labels.en {
                    println!("imported {created} of {total}; {skipped} already present");
                } else {
                    println!("импортировано {created} из {total}; уже были: {skipped}");
                }
                // Labelled history from the old system trains at once.
                if let Some(s) = self.store.retrain_triage(&self.triage, false).await? {
                    self.print_trained(&s);
                }
                Ok(())
            }
            // Both stopped: the store at its refused line, the reader at a later one it had
            // read before it noticed. The first fault in the file is the one to fix.
            (Err(ImportFailed::Line(line, e)), Ok(()) | Err(import::Fault::Line(..)))
                if e.is_bad_input() && read_stopped_at.is_none_or(|n| n > line) =>
            {
                let why = crate::present::refusal::store_error_ru(&e)
                    .filter(|_| !english())
                    .unwrap_or_else(|| e.to_string());
                Err(nothing(format!("{} {line}: {why}", lang.pick("строка", "line"))).into())
            }
            (_, Err(import::Fault::Line(_, e))) => Err(nothing(e).into()),
            (_, Err(import::Fault::Io(e))) => Err(anyhow::Error::from(e)
                .context(format!("cannot read {}", file.display()))
                .context("nothing imported")),
            (Err(ImportFailed::Line(_, e) | ImportFailed::Store(e)), Ok(())) => {
                Err(anyhow::Error::from(e).context("nothing imported"))
            }
            (Err(ImportFailed::Abandoned), Ok(())) => Err(anyhow::anyhow!(
                "the import reader stopped; nothing imported"
            )),
        }
    }

    pub(super) async fn export(&self, out: Option<&std::path::Path>) -> anyhow::Result<()> {
        let format = match self.format {
            Format::Csv => Format::Csv,
            Format::Jsonl | Format::Json | Format::Table => Format::Jsonl,
        };
        let mut sink: Box<dyn Write> = match out {
            Some(p) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(p)
                    .with_context(|| format!("cannot write {}", p.display()))?,
            )),
            None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
        };
        let mut csv_writer = None;
        if format == Format::Csv {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(output::CSV_HEADER)?;
            sink.write_all(&w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
            csv_writer = Some(());
        }
        let mut after: Option<Cursor> = None;
        loop {
            let page = self
                .store
                .inbox(Filter::default(), Sort::Received, after, 1000)
                .await?;
            for r in &page.rows {
                let v = self.view(r);
                if csv_writer.is_some() {
                    let mut w = csv::WriterBuilder::new()
                        .has_headers(false)
                        .from_writer(Vec::new());
                    w.write_record(output::csv_record(&v))?;
                    sink.write_all(&w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)?;
                } else {
                    serde_json::to_writer(&mut sink, &v)?;
                    sink.write_all(b"\n")?;
                }
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        sink.flush()?;
        Ok(())
    }
}

pub(super) fn generate(
    count: usize,
    seed: u64,
    days: f64,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    if !(days.is_finite() && days > 0.0) {
        return Err(Refused(format!("--days must be a positive number, got {days}")).into());
    }
    let span_ms = (days * 86_400_000.0) as i64;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let channels = ["telegram", "vk", "vk", "pos"];
    let mut g = crate::demo::corpus::Generator::new(seed);
    for i in 0..count {
        let s = g.next_request();
        // Oldest first, evenly spread, so numbers follow receipt order.
        let offset = span_ms - span_ms * i as i64 / count.max(1) as i64;
        let channel = channels[g.below(channels.len() as u64) as usize];
        let mut v = serde_json::json!({
            "text": s.text,
            "received_at": (now - chrono::Duration::milliseconds(offset)).to_rfc3339(),
            "channel": channel,
            "external_id": format!("gen-{seed}-{i}"),
            "citizen": s.citizen,
        });
        if let Some(a) = s.address {
            v["address"] = a.into();
        }
        if let (Some(lat), Some(lon)) = (s.lat, s.lon) {
            v["lat"] = lat.into();
            v["lon"] = lon.into();
        }
        serde_json::to_writer(&mut out, &v)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// `mcu repair`: what no longer reads goes aside, and everything set aside is listed.
pub(super) async fn repair(store: &Store, format: Format) -> anyhow::Result<()> {
    let moved = store.repair().await?;
    let all = store.quarantined().await?;
    let en = english();
    match format {
        Format::Json | Format::Jsonl => {
            let out = serde_json::json!({
                "moved": moved,
                "quarantined": all.iter().map(|(q, _)| q).collect::<Vec<_>>(),
            });
            println!("{out}");
        }
        _ => {
            println!(
                "{}",
                if en {
                    format!(
                        "moved aside now: {}; set aside in all: {}",
                        moved.len(),
                        all.len()
                    )
                } else {
                    format!(
                        "отложено сейчас: {}; всего отложено: {}",
                        moved.len(),
                        all.len()
                    )
                }
            );
            for (q, at) in &all {
                let at = chrono::DateTime::from_timestamp_millis(*at)
                    .map(|t| t.format("%d.%m.%Y %H:%M").to_string())
                    .unwrap_or_default();
                println!(
                    "{at} {} {}: {}",
                    q.kind,
                    crate::sanitize::line(&q.id),
                    crate::sanitize::line(&q.reason)
                );
            }
        }
    }
    Ok(())
}
