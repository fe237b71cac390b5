//! Staged mass incidents in the simulator (`demo::staged`): from `first_after`, every `every`,
//! a burst pipe at a new house reported by 5–12 citizens, each a new citizen on the next of the
//! channels the demo runs, a report every few seconds, with unrelated reports at the same
//! house between them — so the demo shows a group forming and one answer reaching everyone.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use super::state::Shared;
use crate::demo::corpus::{Generator, SampleRequest};
use crate::demo::staged::{self, StagedReport};

#[derive(Debug, Clone, PartialEq)]
pub struct Staging {
    pub first_after: Duration,
    pub every: Duration,
    /// Which channels the citizens write through, in turn.
    pub telegram: bool,
    pub vk: bool,
    pub platform: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Via {
    Telegram,
    Vk,
    Platform,
}

pub(super) async fn run(shared: Arc<Shared>, staging: Staging, mut stop: watch::Receiver<bool>) {
    let via: Vec<Via> = [
        (staging.telegram, Via::Telegram),
        (staging.vk, Via::Vk),
        (staging.platform, Via::Platform),
    ]
    .into_iter()
    .filter_map(|(on, v)| on.then_some(v))
    .collect();
    if via.is_empty() {
        return;
    }
    let mut g = Generator::new(shared.opts.seed ^ 0x1c1d_e475);
    let mut wait = staging.first_after;
    let mut turn = 0;
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let members = 5 + g.below(8) as usize;
        for r in staged::incident(&mut g, members, 2) {
            send(&shared, via[turn % via.len()], &r);
            turn += 1;
            let gap = Duration::from_millis(3_000 + g.below(7_000));
            tokio::select! {
                () = tokio::time::sleep(gap) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
        wait = staging.every;
    }
}

fn send(shared: &Shared, via: Via, r: &StagedReport) {
    match via {
        Via::Telegram => {
            let mut inner = shared.lock();
            let inner = &mut *inner;
            let i = inner
                .traffic
                .new_citizen(&mut inner.world, &r.citizen, r.topic);
            let chat = inner.traffic.chat_id(i);
            super::traffic::push_text(&mut inner.world, chat, &r.text);
            if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
                let mut m = inner.world.citizen_message(chat);
                m.insert(
                    "location".into(),
                    json!({"latitude": lat, "longitude": lon}),
                );
                inner.world.push_message("message", m);
            }
        }
        Via::Vk => {
            let mut inner = shared.lock();
            let peer = inner.vk_traffic.new_citizen(r.topic);
            let mut m = serde_json::Map::new();
            m.insert("text".into(), json!(r.text));
            if let (Some(lat), Some(lon)) = (r.lat, r.lon) {
                m.insert(
                    "geo".into(),
                    json!({"type": "point", "coordinates": {"latitude": lat, "longitude": lon}}),
                );
            }
            inner.vk.citizen_message(peer, m);
        }
        Via::Platform => {
            let s = SampleRequest {
                text: r.text.clone(),
                topic: r.topic,
                department: None,
                citizen: r.citizen.clone(),
                address: r.address.clone(),
                lat: r.lat,
                lon: r.lon,
                has_photo: false,
            };
            shared.platform.file_sample(s, chrono::Utc::now());
        }
    }
}
