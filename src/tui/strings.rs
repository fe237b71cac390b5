//! Every word the console shows, in Russian (default) and English.

use super::app::{ComposeKind, PickerKind, View};
use super::keymap::Action;
use crate::domain::{CloseReason, Priority, Status};

pub use crate::lang::Lang;

impl Lang {
    pub fn view(self, v: View) -> &'static str {
        match v {
            View::Mine => self.pick("Мои", "Mine"),
            View::New => self.pick("Новые", "New"),
            View::AtRisk => self.pick("Под угрозой", "At risk"),
            View::Waiting => self.pick("Ждут департамент", "Waiting"),
            View::ClosedToday => self.pick("Закрыты сегодня", "Closed today"),
            View::All => self.pick("Все", "All"),
            View::Undelivered => self.pick("Не доставлено", "Undelivered"),
        }
    }

    pub fn delivery(self, d: crate::domain::request::DeliveryState) -> &'static str {
        crate::present::names::delivery(d, self)
    }

    /// A status in the inbox's column, the card and the audit lines.
    pub fn status(self, s: Status) -> &'static str {
        crate::present::status::name(s, crate::present::status::Form::Column, self)
    }

    pub fn priority(self, p: Priority) -> &'static str {
        crate::present::names::priority(p, self)
    }

    pub fn close_reason(self, r: CloseReason) -> &'static str {
        crate::present::names::close_reason(r, self)
    }

    pub fn picker(self, k: PickerKind) -> &'static str {
        match k {
            PickerKind::Topic => self.pick("Тема", "Topic"),
            PickerKind::Department => self.pick("Департамент", "Department"),
            PickerKind::Priority => self.pick("Приоритет", "Priority"),
            PickerKind::CloseReason => self.pick("Причина закрытия", "Close reason"),
            PickerKind::Forward => self.pick("Передать в департамент", "Forward to department"),
            PickerKind::Attachment => self.pick("Открыть файл", "Open a file"),
            PickerKind::CitizenRequest => {
                self.pick("Обращения заявителя", "The citizen's requests")
            }
            PickerKind::SplitMessage => self.pick(
                "Какое сообщение выделить в новое обращение",
                "Which message becomes a request of its own",
            ),
            PickerKind::Assign => self.pick("Назначить", "Assign"),
        }
    }

    pub fn compose(self, k: ComposeKind) -> &'static str {
        match k {
            ComposeKind::Reply => self.pick("Ответ заявителю", "Reply to the citizen"),
            ComposeKind::Note => self.pick("Внутренняя заметка", "Internal note"),
            ComposeKind::DepartmentAnswer => self.pick("Ответ департамента", "Department's answer"),
            ComposeKind::Forward => self.pick(
                "Записка для департамента (можно пустую)",
                "Note for the department (may be empty)",
            ),
            ComposeKind::Phoned => self.pick("Позвонили заявителю", "Phoned the citizen"),
            ComposeKind::Ask => self.pick(
                "Вопрос заявителю (ждать ответа)",
                "Question to the citizen (wait for the answer)",
            ),
            ComposeKind::Return => self.pick(
                "Вернуть операторам: не наше",
                "Return to the operators: not ours",
            ),
        }
    }

    /// What the editor's text becomes and who reads it, shown over the text: only the reply
    /// goes to the citizen, and each of the others says so.
    pub fn compose_hint(self, k: ComposeKind) -> &'static str {
        match k {
            ComposeKind::Reply => self.pick("Заявитель увидит:", "The citizen will see:"),
            ComposeKind::Ask => self.pick(
                "Заявитель увидит вопрос; обращение будет ждать его ответа, срок решения остановится:",
                "The citizen sees the question; the request waits for the answer and its resolution clock holds:",
            ),
            ComposeKind::Note => self.pick(
                "Внутренняя заметка — заявитель её не увидит; запишется в карточку:",
                "Internal note — the citizen never sees it; recorded on the card:",
            ),
            ComposeKind::DepartmentAnswer => self.pick(
                "Ответ департамента — записывается в карточку, заявителю не отправляется:",
                "The department's answer — recorded on the card, not sent to the citizen:",
            ),
            ComposeKind::Forward => self.pick(
                "Записка уходит в департамент с передачей — заявитель её не увидит:",
                "The note goes to the department with the request — the citizen never sees it:",
            ),
            ComposeKind::Phoned => self.pick(
                "Что сказали заявителю по телефону — запишется как ответ по телефону, срок ответа остановится:",
                "What the citizen was told by phone — recorded as a reply by phone; the response clock stops:",
            ),
            ComposeKind::Return => self.pick(
                "Почему не ваше — обращение вернётся операторам, ваш срок остановится:",
                "Why it is not yours — the request goes back to the operators, your clock stops:",
            ),
        }
    }

    /// The composer's keys: a reply is sent, the others are recorded.
    pub fn compose_keys(self, k: ComposeKind) -> &'static str {
        match k {
            ComposeKind::Reply | ComposeKind::Ask => {
                self.pick("Ctrl-S отправить · Esc отмена", "Ctrl-S send · Esc cancel")
            }
            ComposeKind::Forward => self.pick(
                "Ctrl-S передать · Esc отмена",
                "Ctrl-S forward · Esc cancel",
            ),
            _ => self.pick("Ctrl-S записать · Esc отмена", "Ctrl-S save · Esc cancel"),
        }
    }

    /// The composer's title: what is written, and to which requests (`Ответ 3 заявителям:
    /// 2026-000024, 2026-000025, 2026-000026`), cut to `width` characters.
    pub fn compose_title(self, k: ComposeKind, numbers: &[&str], width: usize) -> String {
        let n = numbers.len();
        match (self, k, numbers) {
            (_, _, [one]) => format!("{} · {one}", self.compose(k)),
            (Lang::Ru, ComposeKind::Reply, _) => headed(
                format!(
                    "Ответ {n} {}: ",
                    ru_plural(n, "заявителю", "заявителям", "заявителям")
                ),
                numbers,
                width,
            ),
            (Lang::En, ComposeKind::Reply, _) => {
                headed(format!("Reply to {n} citizens: "), numbers, width)
            }
            _ => format!(
                "{} · {}",
                self.compose(k),
                self.targets(
                    numbers,
                    width.saturating_sub(3 + self.compose(k).chars().count())
                )
            ),
        }
    }

    /// Over the preview when the text goes to several requests: whose rendering it is.
    pub fn compose_shown(self, i: usize, n: usize, number: &str) -> String {
        match self {
            Lang::Ru => format!("{i} из {n}: {number} · PgDn/PgUp — другие"),
            Lang::En => format!("{i} of {n}: {number} · PgDn/PgUp — the others"),
        }
    }

    /// `3 обращения`, `21 обращение`, `5 обращений`.
    pub fn requests(self, n: usize) -> String {
        match self {
            Lang::Ru => format!(
                "{n} {}",
                ru_plural(n, "обращение", "обращения", "обращений")
            ),
            Lang::En if n == 1 => "1 request".to_string(),
            Lang::En => format!("{n} requests"),
        }
    }

    /// The requests an action works on, for a window's title: the number alone, or how many
    /// and which (`3 обращения: 2026-000024, 2026-000025, 2026-000026`), cut to `width`
    /// characters with how many more were left out.
    pub fn targets(self, numbers: &[&str], width: usize) -> String {
        match numbers {
            [one] => one.to_string(),
            _ => format!(
                "{}: {}",
                self.requests(numbers.len()),
                listed(numbers, width)
            ),
        }
    }

    pub fn action(self, a: Action) -> &'static str {
        match a {
            Action::Quit => self.pick("выйти", "quit"),
            Action::Help => self.pick("справка", "help"),
            Action::Down => self.pick("вниз", "down"),
            Action::Up => self.pick("вверх", "up"),
            Action::PageDown => self.pick("страница вниз", "page down"),
            Action::PageUp => self.pick("страница вверх", "page up"),
            Action::Top => self.pick("в начало", "top"),
            Action::Bottom => self.pick("в конец", "bottom"),
            Action::Open => self.pick("показать/скрыть карточку", "show/hide detail"),
            Action::Back => self.pick("назад, отмена", "back, cancel"),
            Action::Claim => self.pick("взять в работу", "claim"),
            Action::Release => self.pick("вернуть в очередь", "release"),
            Action::Topic => self.pick("тема", "topic"),
            Action::AcceptSuggestion => self.pick(
                "принять подсказку: тема и департамент",
                "accept the suggested topic and department",
            ),
            Action::Department => self.pick("департамент", "department"),
            Action::Priority => self.pick("приоритет", "priority"),
            Action::Tag => self.pick("метки", "tags"),
            Action::Forward => self.pick("передать в департамент", "forward to department"),
            Action::DepartmentAnswer => {
                self.pick("записать ответ департамента", "record department's answer")
            }
            Action::Reply => self.pick("ответить заявителю", "reply to citizen"),
            Action::Ask => self.pick(
                "спросить заявителя и ждать ответа",
                "ask the citizen and wait",
            ),
            Action::Note => self.pick("заметка", "note"),
            Action::Close => self.pick("закрыть", "close"),
            Action::Reopen => self.pick("переоткрыть", "reopen"),
            Action::LinkDuplicate => {
                self.pick("дубликат / объединить (Tab)", "duplicate / merge (Tab)")
            }
            Action::CopyNumber => self.pick("скопировать номер", "copy number"),
            Action::Filter => self.pick("фильтр и поиск", "filter and search"),
            Action::Mark => self.pick(
                "отметить (следующее действие — для всех отмеченных)",
                "mark (the next action applies to all marked)",
            ),
            Action::Palette => self.pick(
                "все команды (поиск по названию)",
                "all commands (search by name)",
            ),
            Action::SortToggle => self.pick(
                "сортировка: срок / поступление",
                "sort: time left / received",
            ),
            Action::ViewMine => self.pick("вид: мои", "view: mine"),
            Action::ViewNew => self.pick("вид: новые", "view: new"),
            Action::ViewAtRisk => self.pick("вид: под угрозой", "view: at risk"),
            Action::ViewWaiting => self.pick("вид: ждут департамент", "view: waiting"),
            Action::ViewClosedToday => self.pick("вид: закрыты сегодня", "view: closed today"),
            Action::ViewAll => self.pick("вид: все", "view: all"),
            Action::Refresh => self.pick("обновить", "refresh"),
            Action::DetailDown => self.pick("карточка: прокрутить вниз", "detail: scroll down"),
            Action::DetailUp => self.pick("карточка: прокрутить вверх", "detail: scroll up"),
            Action::OpenAttachment => self.pick(
                "открыть вложение в программе системы",
                "open the attachment externally",
            ),
            Action::Alarms => self.pick("тревоги и состояние каналов", "alarms and channels"),
            Action::Dashboard => self.pick("панель смены", "shift dashboard"),
            Action::Alerts => self.pick("предупреждения о сроках", "deadline alerts"),
            Action::Handover => self.pick("передача смены", "shift handover"),
            Action::Shift => self.pick(
                "кто на смене; отметить на смене или нет",
                "who is on shift; mark on or off shift",
            ),
            Action::Export => self.pick(
                "выгрузить список в CSV (по строке на обращение)",
                "export the list as CSV (a row per request)",
            ),
            Action::Assign => self.pick(
                "назначить исполнителя (старший смены)",
                "assign to an operator (shift lead)",
            ),
            Action::ViewUndelivered => self.pick("вид: не доставлено", "view: undelivered"),
            Action::Resend => self.pick(
                "отправить снова недоставленный ответ",
                "send the undelivered reply again",
            ),
            Action::Phoned => self.pick(
                "позвонили заявителю (ответ не доставлен)",
                "phoned the citizen (reply undelivered)",
            ),
            Action::Unreachable => self.pick(
                "заявитель недоступен (ответ не доставлен)",
                "citizen unreachable (reply undelivered)",
            ),
            Action::Incidents => self.pick(
                "массовые: инциденты и возможные группы",
                "mass incidents and candidate groups",
            ),
            Action::LeaveIncident => {
                self.pick("исключить из инцидента", "take out of its incident")
            }
            Action::CitizenRequests => {
                self.pick("обращения этого заявителя", "this citizen's requests")
            }
            Action::Split => self.pick(
                "выделить сообщение в новое обращение",
                "split a message into a new request",
            ),
            Action::Views => self.pick(
                "виды: список, сохранённые и общие",
                "views: the list, saved and shared",
            ),
            Action::SaveView => self.pick(
                "сохранить вид (фильтр и сортировку)",
                "save the view (filter and sort)",
            ),
            Action::View8 => self.pick("вид 8 (первый сохранённый)", "view 8 (first saved)"),
            Action::View9 => self.pick("вид 9 (второй сохранённый)", "view 9 (second saved)"),
        }
    }

    pub fn readonly(self) -> &'static str {
        self.pick(
            "только просмотр: изменения недоступны",
            "read-only console: changes are off",
        )
    }

    /// What the dashboard's keys do, for a key it does not take.
    pub fn dashboard_keys(self) -> &'static str {
        self.pick(
            "панель: j/k выбрать · Enter открыть обращение · b или Esc к списку",
            "dashboard: j/k select · Enter open the request · b or Esc to the inbox",
        )
    }

    /// The assign picker's item for a name typed in that no loaded request or presence knows.
    pub fn new_assignee(self, name: &str) -> String {
        match self {
            Lang::Ru => format!("{name} (новое имя)"),
            Lang::En => format!("{name} (a new name)"),
        }
    }

    pub fn nobody(self) -> &'static str {
        self.pick("— никому —", "— nobody —")
    }

    pub fn no_undelivered(self) -> &'static str {
        self.pick(
            "у обращения нет недоставленного ответа",
            "the request has no undelivered reply",
        )
    }

    /// The card's head line for an undelivered reply, and why, as far as the channel said.
    pub fn undelivered_reply(self, state: crate::domain::request::DeliveryState) -> &'static str {
        use crate::domain::request::DeliveryState as D;
        match state {
            D::Failed => self.pick(
                "Ответ не доставлен: канал его не принял",
                "Reply not delivered: the channel refused it",
            ),
            _ => self.pick(
                "Ответ, возможно, не дошёл: канал не подтвердил доставку",
                "Reply may not have arrived: the channel did not confirm it",
            ),
        }
    }

    /// The three ways to deal with an undelivered reply, each with its key.
    pub fn undelivered_keys(self, resend: &str, phoned: &str, unreachable: &str) -> String {
        match self {
            Lang::Ru => {
                format!("{resend} отправить снова · {phoned} позвонили · {unreachable} недоступен")
            }
            Lang::En => {
                format!("{resend} send again · {phoned} phoned · {unreachable} unreachable")
            }
        }
    }

    /// The question before a citizen is marked unreachable.
    pub fn unreachable_question(self, targets: &str) -> String {
        match self {
            Lang::Ru => format!(
                "Заявитель недоступен ({targets})? Срок ответа остановится, ответ не будет отправлен. Enter — да, Esc — нет"
            ),
            Lang::En => format!(
                "Citizen unreachable ({targets})? The response clock stops and the reply is not sent. Enter yes, Esc no"
            ),
        }
    }

    pub fn nothing_selected(self) -> &'static str {
        self.pick("нет выбранного обращения", "no request selected")
    }

    pub fn done(self) -> &'static str {
        self.pick("готово", "done")
    }

    pub fn exporting(self) -> &'static str {
        self.pick("выгрузка списка…", "exporting the list…")
    }

    /// One alert, for the status bar: the request, what happened, the start of its text.
    pub fn alert_line(self, c: &crate::store::alerts::Crossing, soon_minutes: i64) -> String {
        use crate::store::alerts::AlertKind;
        let text: String = crate::sanitize::line(&c.text).chars().take(50).collect();
        let what = match (self, c.kind) {
            (Lang::Ru, AlertKind::AtRisk) => "срок под угрозой".to_string(),
            (Lang::Ru, AlertKind::DueSoon) => format!("до срока {soon_minutes} мин"),
            (Lang::Ru, AlertKind::Breached) => "срок нарушен".to_string(),
            (Lang::Ru, AlertKind::Undelivered) => "ответ не доставлен".to_string(),
            (Lang::Ru, AlertKind::Refused) => "сервер отказал".to_string(),
            (Lang::En, AlertKind::AtRisk) => "at risk".to_string(),
            (Lang::En, AlertKind::DueSoon) => format!("due in {soon_minutes} min"),
            (Lang::En, AlertKind::Breached) => "breached".to_string(),
            (Lang::En, AlertKind::Undelivered) => "reply not delivered".to_string(),
            (Lang::En, AlertKind::Refused) => "refused by the server".to_string(),
        };
        format!("⚑ №{} {what} — {text}", c.number)
    }

    pub fn alerts_new(self, n: usize, key: &str) -> String {
        match self {
            Lang::Ru => format!("⚑ новых предупреждений: {n} · {key} — список"),
            Lang::En => format!("⚑ {n} new alerts · {key} — the list"),
        }
    }

    pub fn exported(self, n: usize, path: &str) -> String {
        match self {
            Lang::Ru => format!("выгружено обращений: {n} → {path}"),
            Lang::En => format!("exported {n} requests → {path}"),
        }
    }

    pub fn copied(self) -> &'static str {
        self.pick("номер скопирован", "number copied")
    }

    pub fn empty(self) -> &'static str {
        self.pick("Обращений нет", "No requests")
    }

    pub fn loading(self) -> &'static str {
        self.pick("загрузка…", "loading…")
    }

    pub fn none(self) -> &'static str {
        self.pick("— нет —", "— none —")
    }

    pub fn refused_by_server(self) -> &'static str {
        self.pick("сервер не принял", "the server refused")
    }

    pub fn opened(self) -> &'static str {
        self.pick("открыто во внешней программе", "opened externally")
    }

    pub fn no_files(self) -> &'static str {
        self.pick(
            "у обращения нет загруженных файлов",
            "the request has no downloaded files",
        )
    }

    pub fn compose_more_keys(self, k: ComposeKind) -> &'static str {
        match k {
            ComposeKind::Reply | ComposeKind::Ask => self.pick(
                "::слово Tab · Ctrl-T шаблоны · Ctrl-O редактор",
                "::word Tab · Ctrl-T templates · Ctrl-O editor",
            ),
            _ => self.pick(
                "Enter новая строка · Ctrl-O редактор",
                "Enter new line · Ctrl-O editor",
            ),
        }
    }

    pub fn picker_keys(self) -> &'static str {
        self.pick(
            "печатайте для поиска · Enter выбрать · Esc отмена",
            "type to filter · Enter choose · Esc cancel",
        )
    }

    /// `Tab` switches what `D` does: link as a duplicate, or merge the threads.
    pub fn link_prompt(self, merge: bool) -> &'static str {
        if merge {
            self.pick(
                "объединить переписку с обращением (Tab — дубликат) номер: ",
                "merge the thread into request (Tab: duplicate) number: ",
            )
        } else {
            self.pick(
                "дубликат обращения (Tab — объединить) номер: ",
                "duplicate of request (Tab: merge) number: ",
            )
        }
    }

    pub fn filter_prompt(self) -> &'static str {
        self.pick(
            "фильтр (тема:дороги @me !closed #метка текст): ",
            "filter (topic:roads @me !closed #tag text): ",
        )
    }

    /// Before the names of those who have the card open (the detail's presence line).
    pub fn viewing(self, people: usize) -> &'static str {
        match (self, people) {
            (Lang::Ru, 1) => "Смотрит",
            (Lang::Ru, _) => "Смотрят",
            (Lang::En, _) => "Viewing",
        }
    }

    /// Before the names of those writing a reply.
    pub fn replying(self, people: usize) -> &'static str {
        match (self, people) {
            (Lang::Ru, 1) => "Пишет ответ",
            (Lang::Ru, _) => "Пишут ответ",
            (Lang::En, _) => "Replying",
        }
    }

    /// The composer's warning: someone else is writing a reply to the same citizen.
    pub fn already_replying(self, who: &str, people: usize) -> String {
        match (self, people) {
            (Lang::Ru, 1) => format!("{who} уже пишет ответ"),
            (Lang::Ru, _) => format!("{who} уже пишут ответ"),
            (Lang::En, 1) => format!("{who} is already writing a reply"),
            (Lang::En, _) => format!("{who} are already writing a reply"),
        }
    }

    /// A macro in the palette, the help and a bulk action's status line.
    pub fn macro_name(self, title: &str) -> String {
        format!("{} {title}", self.pick("макрос:", "macro:"))
    }

    /// A macro's composer: what Ctrl-S does besides sending the reply.
    pub fn macro_with(self, steps: &[String]) -> String {
        let with = self.pick("Вместе с ответом:", "Together with the reply:");
        format!("{with} {}", steps.join(" · "))
    }

    pub fn macro_keys(self) -> &'static str {
        self.pick(
            "Ctrl-S выполнить макрос · Esc отменить всё",
            "Ctrl-S run the macro · Esc cancel it all",
        )
    }

    /// The status line after a macro on one request: what was done.
    pub fn macro_done(self, title: &str, number: &str, steps: &str) -> String {
        match self {
            Lang::Ru => format!("«{title}» выполнен · {number}: {steps}"),
            Lang::En => format!("«{title}» done · {number}: {steps}"),
        }
    }

    /// A macro that did nothing, and why.
    pub fn macro_failed(self, title: &str, number: &str, why: &str) -> String {
        match self {
            Lang::Ru => format!("«{title}» не выполнен, ничего не изменено · {number}: {why}"),
            Lang::En => format!("«{title}» not done, nothing changed · {number}: {why}"),
        }
    }

    pub fn header(self) -> [&'static str; 7] {
        match self {
            Lang::Ru => [
                "НОМЕР",
                "КАН",
                "ОСТАЛОСЬ",
                "ТЕМА",
                "СТАТУС",
                "ИСПОЛН.",
                "ТЕКСТ",
            ],
            Lang::En => [
                "NUMBER", "CH", "LEFT", "TOPIC", "STATUS", "ASSIGNEE", "TEXT",
            ],
        }
    }
}

/// Russian nouns after a number: one, a few (2–4), many.
pub fn ru_plural<'a>(n: usize, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    match (n % 10, n % 100) {
        (1, r) if r != 11 => one,
        (2..=4, r) if !(12..=14).contains(&r) => few,
        _ => many,
    }
}

/// `head` and as many of the numbers as fit `width` characters in all.
fn headed(head: String, numbers: &[&str], width: usize) -> String {
    let list = listed(numbers, width.saturating_sub(head.chars().count()));
    format!("{head}{list}")
}

/// Numbers joined with commas up to `width` characters, then `… +N` for the rest.
fn listed(numbers: &[&str], width: usize) -> String {
    let mut out = String::new();
    for (i, n) in numbers.iter().enumerate() {
        let rest = numbers.len() - i - 1;
        let more = if rest > 0 {
            format!(", … +{rest}").chars().count()
        } else {
            0
        };
        let sep = if i == 0 { "" } else { ", " };
        if i > 0 && out.chars().count() + sep.len() + n.chars().count() + more > width {
            out.push_str(&format!(", … +{}", numbers.len() - i));
            break;
        }
        out.push_str(sep);
        out.push_str(n);
    }
    out
}
