//! Several gateways in one process report into one stream: each event carries its channel,
//! so the console keeps each channel's health apart.

use tokio::sync::mpsc;

use super::gateway::GatewayEvent;
use crate::domain::Channel;

/// A gateway's event sender whose events arrive on `out` with `channel` beside them. The
/// forwarding stops when the gateway drops its sender or `out` is closed.
pub fn tagged(
    channel: Channel,
    out: mpsc::UnboundedSender<(Channel, GatewayEvent)>,
) -> mpsc::UnboundedSender<GatewayEvent> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(e) = rx.recv().await {
            if out.send((channel, e)).is_err() {
                return;
            }
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_arrive_with_their_channel_in_order() {
        let (out, mut all) = mpsc::unbounded_channel();
        let tg = tagged(Channel::Telegram, out.clone());
        let vk = tagged(Channel::Vk, out);
        tg.send(GatewayEvent::Warning("1".into())).unwrap();
        tg.send(GatewayEvent::Stopped).unwrap();
        vk.send(GatewayEvent::Warning("2".into())).unwrap();
        drop((tg, vk));
        let mut got = vec![];
        while let Some(e) = all.recv().await {
            got.push(e);
        }
        let tg: Vec<_> = got
            .iter()
            .filter(|(c, _)| *c == Channel::Telegram)
            .collect();
        assert_eq!(tg.len(), 2);
        assert!(matches!(tg[1].1, GatewayEvent::Stopped), "in order");
        assert!(
            got.iter().any(
                |(c, e)| *c == Channel::Vk && matches!(e, GatewayEvent::Warning(w) if w == "2")
            )
        );
    }
}
