//! A reply's own words: mail clients put the whole mail answered under (or over) the reply,
//! and a department's answer recorded with our forward quoted in it would repeat the request
//! to the operator and the citizen. Cut at the first line that starts the quoted part in the
//! forms the common clients write (Outlook, Thunderbird, Gmail, Яндекс, Mail.ru, The Bat!).

/// The text above the quoted part, lines beginning with `>` left out, the signature cut.
pub fn own_words(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept: Vec<&str> = vec![];
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t == "--" {
            break;
        }
        if starts_quote(t) || header_block(t, lines.get(i + 1).map(|l| l.trim())) {
            break;
        }
        if t.starts_with('>') {
            continue;
        }
        kept.push(line.trim_end());
    }
    kept.join("\n").trim().to_string()
}

fn starts_quote(t: &str) -> bool {
    let lower = t.to_lowercase();
    let separators = [
        "-----original message-----",
        "-----исходное сообщение-----",
        "-------- пересылаемое сообщение",
        "-------- forwarded message",
        "-------- original message",
    ];
    if separators.iter().any(|s| lower.starts_with(s)) {
        return true;
    }
    if t.len() >= 16 && t.chars().all(|c| c == '_') {
        return true;
    }
    // «On Mon, 7 Dec 2026 at 12:00, МЦУ <mcu@city.example> wrote:», «7 декабря 2026 г., в
    // 12:00, МЦУ <…> написал(а):», «Понедельник, 7 декабря 2026, 12:00 +03:00 от МЦУ <…>:».
    lower.ends_with(':')
        && (lower.contains("wrote")
            || lower.contains("написал")
            || lower.contains("пишет")
            || (lower.contains(" от ") && lower.contains('@')))
}

/// Outlook's block: «From: …» / «От: …» followed by «Sent:» / «Отправлено:» / «Date:».
fn header_block(t: &str, next: Option<&str>) -> bool {
    let lower = t.to_lowercase();
    if !(lower.starts_with("from:") || lower.starts_with("от:")) {
        return false;
    }
    let next = next.unwrap_or_default().to_lowercase();
    ["sent:", "date:", "отправлено:", "дата:", "to:", "кому:"]
        .iter()
        .any(|h| next.starts_with(h))
}

#[cfg(test)]
mod tests {
    use super::own_words;

    #[test]
    fn the_quoted_forward_is_left_out() {
        let gmail = "Бригада выехала, устраним к 18:00.\n\nOn Mon, 7 Dec 2026 at 12:00, МЦУ <mcu@city.example> wrote:\n> Здравствуйте!\n> Обращение 2026-000123 передано вам";
        assert_eq!(own_words(gmail), "Бригада выехала, устраним к 18:00.");
        let yandex =
            "Принято.\r\n\r\n07.12.2026, 12:00, \"МЦУ\" <mcu@city.example> написал(а):\r\n> текст";
        assert_eq!(own_words(yandex), "Принято.");
        let outlook = "Работы запланированы на завтра.\n\nОт: МЦУ <mcu@city.example>\nОтправлено: 7 декабря 2026 г. 12:00\nТема: [МЦУ 2026-000123]";
        assert_eq!(own_words(outlook), "Работы запланированы на завтра.");
        let bottom = "> Обращение 2026-000123\n> передано вам\n\nСделано, фото прилагаем.\n-- \nДиспетчер ЖКХ\nтел. 123";
        assert_eq!(own_words(bottom), "Сделано, фото прилагаем.");
        let plain = "Просто ответ\nв две строки";
        assert_eq!(own_words(plain), plain);
        let outlook_en = "Done.\n________________________________\nFrom: MCU\nSent: Monday";
        assert_eq!(own_words(outlook_en), "Done.");
    }
}
