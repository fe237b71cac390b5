//! A deterministic generator of realistic Russian citizen requests (Krasnodar) for the demo, the
//! Telegram simulator and benchmarks.
//!
//! The same seed gives the same sequence on every platform: the PRNG is splitmix64 written here,
//! floating point is only used for comparisons and coordinates built from integer draws.
//! Topic shares follow the real center's article (ЖКХ and roads first, then urban, transport,
//! waste, a tail of rarer topics and about 5% out-of-scope requests). Texts are assembled from
//! original phrase lists (`texts.rs`, `tail.rs`) with Krasnodar streets and microdistricts
//! (`places.rs`) declined to fit the sentence.

mod compose;
mod places;
mod tail;
mod texts;
mod topics;

use compose::push_house;
use places::{Micro, Street};
use topics::{History, LONG_EXTRA, TOPICS};

/// One generated citizen request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SampleRequest {
    /// Russian, as a citizen writes it: usually 1–6 sentences, one line, no control characters.
    pub text: String,
    /// Catalog topic id (`utilities`, `roads`, ... `out_of_scope`).
    pub topic: &'static str,
    /// Default department id for the topic per assets/catalog.toml (None for `out_of_scope`).
    pub department: Option<&'static str>,
    /// A plausible Russian name or a Telegram-style handle.
    pub citizen: String,
    /// "ул. Красная, 122", "мкр. Юбилейный", or None when the citizen names no place.
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub has_photo: bool,
}

/// Seeded generator of [`SampleRequest`]s; an endless iterator.
#[derive(Debug, Clone)]
pub struct Generator {
    state: u64,
}

#[derive(Clone, Copy)]
struct House {
    num: u64,
    suffix: &'static str,
}

#[derive(Clone, Copy)]
enum Loc {
    /// No named place; `{at}` renders this phrase.
    Vague(&'static str),
    /// `mode` picks the phrasing; mode 7 names the place only in a trailing "Адрес: ..." sentence.
    Street {
        s: &'static Street,
        house: House,
        mode: u8,
        vague: &'static str,
    },
    Micro {
        m: &'static Micro,
        form: usize,
    },
}

struct Ctx {
    loc: Loc,
    loc_used: bool,
    female: bool,
    route_kind: &'static places::RouteKind,
    route_num: u64,
    route_letter: &'static str,
    route_style: u8,
    stop: &'static str,
}

#[derive(Clone, Copy, PartialEq)]
enum Register {
    Polite,
    Neutral,
    Angry,
    Terse,
}

const LAT_MIN: f64 = 44.985;
const LAT_MAX: f64 = 45.115;
const LON_MIN: f64 = 38.905;
const LON_MAX: f64 = 39.145;

impl Generator {
    /// A generator whose whole output is fixed by `seed`.
    pub fn new(seed: u64) -> Generator {
        Generator { state: seed }
    }

    /// splitmix64 (Steele, Lea, Flood 2014).
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (0 when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.unit() < p
    }

    /// Uniform in [0, 1) with 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// The next request: topic by the article's shares, then place, citizen, register and text.
    pub fn next_request(&mut self) -> SampleRequest {
        let mut r = self.below(1000);
        let topic = TOPICS
            .iter()
            .find(|t| {
                if r < t.weight {
                    true
                } else {
                    r -= t.weight;
                    false
                }
            })
            .unwrap_or(&TOPICS[0]);

        let female = self.chance(0.58);
        let (citizen, named) = self.citizen(female);
        let loc = self.pick_loc(topic.loc_p);
        let kinds = places::ROUTE_KINDS;
        let mut k = self.below(kinds.iter().map(|(w, _)| w).sum());
        let route_kind = kinds
            .iter()
            .find(|(w, _)| {
                if k < *w {
                    true
                } else {
                    k -= *w;
                    false
                }
            })
            .map_or(&kinds[0].1, |(_, rk)| rk);
        let route_num = 1 + self.below(route_kind.max);
        let route_letter = if !route_kind.feminine && route_kind.max > 50 && self.chance(0.08) {
            "А"
        } else {
            ""
        };
        let route_style = self.below(3) as u8;
        let stop = self.pick(places::STOPS);
        let mut ctx = Ctx {
            loc,
            loc_used: false,
            female,
            route_kind,
            route_num,
            route_letter,
            route_style,
            stop,
        };
        let has_photo = self.chance(topic.photo_p);

        let long = topic.history == History::Housing && self.chance(0.025);
        let register = if long {
            if self.chance(0.5) {
                Register::Polite
            } else {
                Register::Neutral
            }
        } else {
            let x = self.unit();
            if x < topic.angry_p {
                Register::Angry
            } else if x < topic.angry_p + 0.12 {
                Register::Terse
            } else if x < topic.angry_p + 0.12 + 0.45 {
                Register::Polite
            } else {
                Register::Neutral
            }
        };

        let mut text = String::with_capacity(if long { 1600 } else { 400 });
        // Opening.
        match register {
            Register::Polite if self.chance(0.85) => self.push_plain(&mut text, tail::GREET_POLITE),
            Register::Neutral if self.chance(0.3) => self.push_plain(&mut text, tail::GREET_POLITE),
            Register::Angry if self.chance(0.4) => self.push_plain(&mut text, tail::GREET_ANGRY),
            _ => {}
        }
        // The problem itself.
        let total: u64 = topic.themes.iter().map(|t| t.cores.len() as u64).sum();
        let mut c = self.below(total) as usize;
        let mut theme = &topic.themes[0];
        for t in topic.themes {
            if c < t.cores.len() {
                theme = t;
                break;
            }
            c -= t.cores.len();
        }
        let core_start = self.sentence(&mut text, theme.cores[c], &mut ctx);
        if register == Register::Angry {
            if text.ends_with('.') && self.chance(0.6) {
                text.pop();
                let bang = self.pick(&["!", "!!", "!!!", "!!!!"]);
                text.push_str(bang);
            }
            if self.chance(0.15) {
                let upper = text[core_start..].to_uppercase();
                text.replace_range(core_start.., &upper);
            }
        }
        // Details, history, the place if the core did not name it.
        let n_details = match register {
            _ if long => 4 + self.below(5),
            Register::Polite | Register::Neutral => self.below(3),
            Register::Angry => 1 + self.below(2),
            Register::Terse => 0,
        };
        self.push_distinct(&mut text, theme.details, topic.common, n_details, &mut ctx);
        let n_history = match register {
            _ if topic.history == History::None => 0,
            _ if long => 1 + self.below(3),
            Register::Polite | Register::Neutral => u64::from(self.chance(0.2)),
            Register::Angry => u64::from(self.chance(0.35)),
            Register::Terse => 0,
        };
        let housing: &[&str] = if topic.history == History::Housing {
            tail::HISTORY_HOUSING
        } else {
            &[]
        };
        self.push_distinct(&mut text, tail::HISTORY, housing, n_history, &mut ctx);
        if long {
            let span = if self.chance(0.2) { 14 } else { 5 };
            let n = 2 + self.below(span);
            self.push_distinct(&mut text, LONG_EXTRA, &[], n, &mut ctx);
        }
        if !ctx.loc_used && topic.trailer {
            self.push_trailer(&mut text, &ctx);
            ctx.loc_used = true;
        }
        if !ctx.loc_used {
            // The citizen never named the place: no address for this request.
            ctx.loc = Loc::Vague("");
        }
        if has_photo
            && self.chance(if register == Register::Terse {
                0.2
            } else {
                0.5
            })
        {
            self.push_plain(&mut text, tail::PHOTO);
        }
        match register {
            Register::Polite if self.chance(0.6) => self.push_plain(&mut text, topic.close),
            Register::Neutral if self.chance(0.3) => self.push_plain(&mut text, topic.close),
            Register::Angry if self.chance(0.6) => self.push_plain(&mut text, tail::CLOSE_ANGRY),
            _ => {}
        }
        if register == Register::Polite && self.chance(0.2) {
            if named {
                text.push_str(" С уважением, ");
                text.push_str(&citizen);
                text.push('.');
            } else if let Loc::Street { house, mode, .. } = ctx.loc
                && mode != 4
                && topic.history == History::Housing
            {
                text.push_str(" Жители дома ");
                push_house(&mut text, house);
                text.push('.');
            }
        }
        let emoji_p = match register {
            Register::Angry => 0.2,
            Register::Polite => 0.08,
            Register::Neutral => 0.05,
            Register::Terse => 0.02,
        };
        if self.chance(emoji_p) {
            text.push(' ');
            let set = if register == Register::Angry {
                tail::EMOJI_ANGRY
            } else {
                tail::EMOJI_POLITE
            };
            text.push_str(self.pick(set));
        }
        // How people really type.
        if register == Register::Terse && text.ends_with('.') && self.chance(0.5) {
            text.pop();
        }
        let typo_p = if register == Register::Angry {
            0.3
        } else {
            0.15
        };
        if self.chance(typo_p) {
            self.typo(&mut text);
            if self.chance(0.3) {
                self.typo(&mut text);
            }
        }
        if self.chance(0.25) && text.contains('ё') {
            text = text.replace('ё', "е");
        }

        let (address, lat, lon) = self.place(&ctx.loc);
        SampleRequest {
            text,
            topic: topic.id,
            department: topic.department,
            citizen,
            address,
            lat,
            lon,
            has_photo,
        }
    }

    /// A follow-up from the same citizen for a previous request's topic: a reminder or thanks.
    pub fn follow_up(&mut self, topic: &str) -> String {
        let specific = TOPICS.iter().find(|t| t.id == topic).map(|t| t.follow);
        let tpl = match specific {
            Some(list) if self.chance(0.55) => self.pick(list),
            _ if self.chance(0.6) => self.pick(tail::GENERIC_FOLLOW_BAD),
            _ => self.pick(tail::GENERIC_FOLLOW_GOOD),
        };
        let mut ctx = Ctx {
            loc: Loc::Vague("здесь"),
            loc_used: false,
            female: self.chance(0.58),
            route_kind: &places::ROUTE_KINDS[0].1,
            route_num: 1 + self.below(99),
            route_letter: "",
            route_style: 0,
            stop: self.pick(places::STOPS),
        };
        let mut text = String::with_capacity(120);
        self.sentence(&mut text, tpl, &mut ctx);
        if self.chance(0.25) {
            self.push_plain(&mut text, tail::FOLLOW_EXTRA);
        }
        if self.chance(0.1) {
            self.typo(&mut text);
        }
        text
    }
}

impl Iterator for Generator {
    type Item = SampleRequest;

    fn next(&mut self) -> Option<SampleRequest> {
        Some(self.next_request())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

#[cfg(test)]
mod tests;
