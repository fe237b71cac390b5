//! What a console says when it and its server speak different versions of the sync protocol
//! (one was updated, the other not): which side is older and what to update, instead of a
//! refusal that reads like a broken request. The CLI prints it, the console flashes it.

use crate::lang::Lang;

/// The words for a console of version `console` and a server of `server` (unknown when an
/// older server did not say).
pub fn text(console: u32, server: Option<u32>, lang: Lang) -> String {
    match server {
        Some(server) if console > server => match lang {
            Lang::Ru => format!(
                "сервер старше этой консоли (протокол синхронизации: консоль {console}, сервер {server}): обновите mcu на сервере; действия ждут в этой консоли"
            ),
            Lang::En => format!(
                "the server is older than this console (sync protocol: console {console}, server {server}): update mcu on the server; actions wait in this console"
            ),
        },
        Some(server) => match lang {
            Lang::Ru => format!(
                "эта консоль старше сервера (протокол синхронизации: консоль {console}, сервер {server}): обновите mcu на этом рабочем месте; действия ждут в этой консоли"
            ),
            Lang::En => format!(
                "this console is older than the server (sync protocol: console {console}, server {server}): update mcu on this desk; actions wait in this console"
            ),
        },
        None => match lang {
            Lang::Ru => format!(
                "консоль и сервер говорят на разных версиях протокола синхронизации (консоль {console}): обновите mcu там, где он старше; действия ждут в этой консоли"
            ),
            Lang::En => format!(
                "this console and the server speak different versions of the sync protocol (console {console}): update mcu where it is older; actions wait in this console"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_direction_names_the_side_to_update() {
        let newer = text(2, Some(1), Lang::Ru);
        assert!(newer.starts_with("сервер старше"), "{newer}");
        assert!(newer.contains("обновите mcu на сервере"), "{newer}");
        let older = text(1, Some(2), Lang::Ru);
        assert!(older.starts_with("эта консоль старше"), "{older}");
        assert!(older.contains("на этом рабочем месте"), "{older}");
        assert!(text(2, Some(1), Lang::En).starts_with("the server is older"));
        assert!(text(1, Some(2), Lang::En).starts_with("this console is older"));
        assert!(text(1, None, Lang::Ru).contains("разных версиях"));
    }
}
