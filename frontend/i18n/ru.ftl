# Hotline — русский (Russian).
# MACHINE-DRAFTED: every string below was drafted by machine translation and awaits review
# by a native speaker. Covered: shell, login, sign-up, common messages, agent states and
# the agent desktop.
# Missing keys fall back to English (en.ftl).

app-name = Hotline

## Shell
shell-language = Язык
shell-logout = Выйти
shell-main-nav = Главное меню
shell-skip-to-content = Перейти к содержимому
state-loading = Загрузка…
platform-console = Консоль платформы
nav-agent = Рабочее место оператора
nav-users = Пользователи
nav-teams = Группы
nav-skills = Навыки
nav-queues = Очереди
nav-roles = Роли
nav-reason-codes = Причины статусов
nav-audit = Журнал действий
nav-sso = Единый вход
nav-tenants = Клиенты
nav-ivr = IVR
nav-campaigns = Кампании
nav-tickets = Заявки
nav-kb = База знаний
nav-customer-template = Шаблон клиента
nav-names = Названия и переводы
nav-customer-import = Импорт клиентов
flash-logged-out = Вы вышли из системы.
flash-no-access = У вас нет доступа к этой странице.
flash-operators-only = Эта страница для операторов платформы. Войдите как оператор.
flash-session-expired = Сеанс истёк. Войдите снова.
flash-signed-out = Вы не вошли в систему. Войдите снова.
flash-sign-in-first = Войдите, чтобы продолжить.
flash-signed-up = Ваш колл-центр готов. Коллеги входят с идентификатором компании «{ $arg }».
flash-user-created = Пользователь { $arg } создан.
notfound-title = Страница не найдена
notfound-body = По этому адресу ничего нет.
notfound-home = На начальную страницу

## Common
action-save = Сохранить
action-cancel = Отмена
action-retry = Повторить
action-dismiss = Закрыть
action-search = Найти
action-edit = Изменить
action-delete = Удалить
answer-yes = Да
answer-no = Нет
notice-saved = Сохранено.
pager-prev = Назад
pager-next = Вперёд
pager-status = Страница { $page } из { $pages } · всего { $total }
form-required = Обязательное поле.
form-invalid-email = Введите адрес электронной почты, например name@example.com.
form-password-mismatch = Пароли не совпадают.
password-hint = Не менее 10 символов. Несколько не связанных между собой слов — надёжный пароль; символы не нужны.
password-strength = Надёжность: { $level }
password-strength-0 = очень слабый
password-strength-1 = слабый
password-strength-2 = средний
password-strength-3 = надёжный
password-strength-4 = очень надёжный
password-problem-too-short = Должен содержать не менее 10 символов.
password-problem-too-long = Должен содержать не более 128 символов.
password-problem-personal = Не должен содержать ваш адрес e-mail, имя или название компании.
password-problem-weak = Слишком легко угадать. Используйте несколько слов, не связанных с вами.
password-warning-straight-rows = Ряды клавиш легко угадать.
password-warning-keyboard-pattern = Короткие узоры на клавиатуре легко угадать.
password-warning-repeats = Повторы вроде «aaa» легко угадать.
password-warning-repeated-words = Повторы вроде «abcabcabc» угадать лишь немного труднее, чем «abc».
password-warning-top10 = Это один из 10 самых распространённых паролей.
password-warning-top100 = Это один из 100 самых распространённых паролей.
password-warning-common = Это очень распространённый пароль.
password-warning-similar-to-common = Это похоже на часто используемый пароль.
password-warning-sequences = Последовательности вроде abc или 6543 легко угадать.
password-warning-recent-years = Недавние годы легко угадать.
password-warning-single-word = Одно слово легко угадать.
password-warning-dates = Даты часто легко угадать.
password-warning-names = Имена и фамилии сами по себе легко угадать.
password-warning-common-names = Распространённые имена и фамилии легко угадать.
password-suggestion-few-words = Используйте несколько слов; избегайте распространённых фраз.
password-suggestion-no-symbols-needed = Символы, цифры и заглавные буквы не нужны.
password-suggestion-add-word = Добавьте ещё одно-два слова. Редкие слова лучше.
password-suggestion-capitalization = Заглавные буквы мало помогают.
password-suggestion-all-uppercase = Пароль из одних заглавных угадать почти так же легко, как из одних строчных.
password-suggestion-reversed = Слова задом наперёд угадать ненамного труднее.
password-suggestion-substitutions = Предсказуемые замены, например «@» вместо «a», мало помогают.
password-suggestion-longer-keyboard = Используйте более длинный узор на клавиатуре с большим числом поворотов.
password-suggestion-avoid-repeats = Избегайте повторяющихся слов и символов.
password-suggestion-avoid-sequences = Избегайте последовательностей.
password-suggestion-avoid-recent-years = Избегайте недавних годов.
password-suggestion-avoid-your-years = Избегайте годов, связанных с вами.
password-suggestion-avoid-your-dates = Избегайте дат и годов, связанных с вами.
error-network = Сервер недоступен. Проверьте подключение и повторите попытку.
error-server = На сервере произошла ошибка. Повторите попытку чуть позже.
error-status = Запрос не выполнен (HTTP { $status }).
problem-invalid-credentials = Неверный идентификатор компании, e-mail или пароль.
problem-login-locked = Слишком много неудачных попыток. Подождите несколько минут.
problem-session-expired = Сеанс истёк. Войдите снова.
problem-unauthenticated = Войдите в систему.
problem-forbidden = У вас нет прав на это действие.
problem-not-found = Не найдено. Возможно, запись удалена.
problem-validation-failed = Некоторые поля заполнены неверно.
problem-slug-taken = Этот идентификатор компании уже занят.
problem-email-taken = Пользователь с таким e-mail уже существует.
problem-tenant-suspended = Учётная запись компании приостановлена. Обратитесь в поддержку.

## Login
login-title = Вход в Hotline
login-tenant = Идентификатор компании
login-tenant-hint = Короткое имя, выбранное компанией при регистрации, например acme.
login-email = Электронная почта
login-password = Пароль
login-submit = Войти
login-submitting = Вход…
login-or = или
login-sso = Войти через SSO ({ $company })
login-no-account = Впервые в Hotline?
login-signup-link = Создать колл-центр
login-operator-link = Вход для операторов платформы
sso-error-generic = Единый вход не удался ({ $code }). Повторите попытку или войдите по паролю.

## Sign-up
signup-title = Создайте свой колл-центр
signup-intro = Вы станете его первым администратором. Это займёт минуту.
signup-company = Название компании
signup-slug = Идентификатор компании
signup-slug-hint = Используется при входе. Латинские буквы, цифры и дефисы; если пусто — из названия компании.
signup-name = Ваше имя
signup-email = Ваш e-mail
signup-password = Пароль
signup-submit = Создать колл-центр
signup-submitting = Создание…
signup-have-account = Уже есть учётная запись?
signup-login-link = Войти

## Agent states
agent-state = Мой статус
agent-status-ready = Готов
agent-status-not-ready = Не готов
agent-status-break = Перерыв
agent-status-logged-out = Не в системе
agent-status-ringing = Вызов
agent-status-on-call = На звонке
agent-status-wrap-up = Постобработка
agent-option-not-ready = Не готов — { $reason }
agent-option-break = Перерыв — { $reason }
agent-change-state = Сменить статус на
agent-apply-state = Сменить статус
agent-since = с { $time }

## Agent desktop (machine-drafted)
agent-title = Рабочее место оператора
agent-shortcuts = Клавиши: Alt+1 статус · Alt+2 софтфон · Alt+3 клиент · Alt+4 обращение · Alt+5 база знаний
agent-softphone = Софтфон
agent-softphone-placeholder = Софтфон появится здесь, когда для вашего центра будет включена телефония.
agent-dial-number = Номер для звонка
agent-call = Позвонить
agent-hold = Удержание
agent-transfer = Перевести
agent-hang-up = Завершить
agent-customer = Клиент
agent-customer-placeholder = Нет активного звонка. Карточка звонящего появится здесь при поступлении вызова.
agent-customer-name = Имя
agent-customer-phone = Телефон
agent-customer-account = Лицевой счёт
agent-customer-history = Последние обращения
agent-interaction = Обращение
agent-interaction-placeholder = Во время звонка классифицируйте обращение и делайте заметки.
agent-category = Категория
agent-notes = Заметки
agent-save-interaction = Сохранить обращение
agent-kb = База знаний
agent-kb-search = Поиск статей
agent-kb-placeholder = Статьи по вашему запросу появятся здесь после настройки базы знаний.
account-title = Моя учётная запись

## IVR (headings and main actions; the rest falls back to English)
ivr-title = IVR (голосовое меню)
ivr-flows = Сценарии
ivr-flow-new = Новый сценарий
ivr-prompts = Голосовые сообщения
ivr-numbers = Номера
ivr-versions = Версии
ivr-publish = Опубликовать
ivr-prompt-upload = Загрузить
ivr-flow-save = Сохранить как новую версию
call-keypad = Клавиатура
call-consult-to = Сначала консультация (номер или внутренний номер коллеги)
call-consult = Консультация
call-consult-dialling = Вызов… абонент на удержании.
call-consult-talking = Вы говорите с консультантом; абонент на удержании.
call-consult-conference-on = Конференция: абонент, вы и консультант.
call-consult-transfer = Передать абонента
call-consult-conference = Конференция втроём
call-consult-cancel = Вернуться к абоненту
call-consult-leave = Выйти, оставив их на связи
call-consult-drop = Отключить консультанта

## Agent readiness: system reason codes, audio device, softphone loss
softphone-failed = Софтфон не подключён
softphone-reconnect = Переподключить
reason-builtin-missed = Пропущенный вызов
reason-builtin-rejected = Отклонён
reason-builtin-softphone-lost = Софтфон отключился
reason-builtin-phone-unreachable = Телефон недоступен
reasons-builtin = Встроенная
reasons-builtin-hint = Системная причина: центр устанавливает её сам. Её нельзя удалить или переименовать.
problem-no-audio-device = Вы пока не можете принимать звонки: софтфон не подключён, и настольный телефон не зарегистрирован. Разрешите браузеру доступ к микрофону и переподключите софтфон или зарегистрируйте настольный телефон, затем снова выберите «Готов».
problem-builtin-reason-code = Это встроенный код причины, который использует система: его нельзя удалить.
softphone-failed-why = Не удалось подключиться: { $detail }
softphone-mic-denied = Доступ к микрофону заблокирован. Разрешите этому сайту использовать микрофон в браузере (значок в адресной строке), затем нажмите «Переподключить». До тех пор вы не сможете стать «Готов», если у вас нет зарегистрированного настольного телефона.
softphone-mic-missing = Микрофон не найден. Подключите гарнитуру, затем нажмите «Переподключить». До тех пор вы не сможете стать «Готов», если у вас нет зарегистрированного настольного телефона.
softphone-mic-busy = Микрофон занят другой программой или не открывается. Закройте эту программу, затем нажмите «Переподключить».
softphone-mic-failed = Не удалось открыть микрофон ({ $detail }). Проверьте гарнитуру, затем нажмите «Переподключить».
softphone-lost = Соединение софтфона потеряно. Нажмите «Переподключить».
softphone-lost-not-ready = Соединение софтфона потеряно, поэтому вам установлен статус «Не готов» (Софтфон отключился). Нажмите «Переподключить», затем снова выберите «Готов».
softphone-sound-blocked = Браузер заблокировал звук разговора. Нажмите «Включить звук», чтобы слышать звонящих.
softphone-enable-audio = Включить звук
softphone-note-phone-not-registered = Ваш настольный телефон не ответил: он не зарегистрирован (480). Вызов вернулся в очередь.
softphone-note-phone-busy = Ваш настольный телефон был занят или отклонил вызов. Вызов вернулся в очередь.
softphone-note-phone-declined = Отклонено на настольном телефоне: вызов вернулся в очередь.
softphone-note-phone-no-answer = Ваш настольный телефон не ответил вовремя. Вызов вернулся в очередь.
softphone-note-phone-failed = Ваш настольный телефон не смог принять вызов. Вызов вернулся в очередь.
softphone-note-phone-failed-status = Ваш настольный телефон не смог принять вызов (SIP { $status }). Вызов вернулся в очередь.
softphone-note-no-device = Вызов не смог до вас дойти: софтфон не подключён, а настольного телефона у вас нет. Он вернулся в очередь.
softphone-note-softphone-lost = Соединение софтфона потеряно, пока звонил вызов. Он вернулся в очередь.

# Names and translations of the tenant's own names (categories, ticket types, statuses)
names-title = Названия и переводы
names-intro = Названия, заданные вашим центром, на каждом языке. Пользователь видит название на своём языке, а если перевода нет — исходное.
names-categories = Категории обращений
names-ticket-types = Типы заявок
names-statuses = Статусы
names-moves = Переходы (кнопки)
names-translations = Переводы
names-saved = Переводы сохранены.

## Outbound calls: operator console, gateway refusals, IVR transfer failure (machine-drafted, awaiting review)
platform-outbound = Исходящие звонки
platform-outbound-title = Исходящие звонки: { $tenant }
platform-outbound-trial = Пробный период
platform-outbound-trial-hint = Колл-центр на пробном периоде совершает не более 2 исходящих звонков одновременно, 50 в день и 2 в секунду. Снимите флажок, чтобы отменить пробный период.
platform-outbound-countries = Разрешённые страны
platform-outbound-countries-hint = Телефонные коды стран через запятую (994, 48, 1). Пусто: только собственная страна колл-центра.
platform-outbound-blocked = Заблокированные префиксы
platform-outbound-blocked-hint = Префиксы, запрещённые сверх встроенного списка платных номеров, через запятую (+99490).
platform-outbound-max-calls = Звонков одновременно
platform-outbound-max-calls-hint = Исходящих звонков одновременно, от 0 до 100000. Пусто: значение платформы по умолчанию (200).
platform-outbound-max-cps = Звонков в секунду
platform-outbound-max-cps-hint = Исходящих звонков в секунду, от 1 до 10000. Пусто: значение платформы по умолчанию (10). Медиашлюзы тоже следят за этим.
platform-outbound-save = Сохранить правила исходящих звонков
platform-outbound-close = Закрыть
platform-outbound-saved = Правила исходящих звонков сохранены. Медиашлюзы применят их со следующего звонка.
platform-outbound-whole-number = Введите целое число или оставьте поле пустым.
softphone-note-outbound-limit = Звонок не совершён: исходящие звонки этого колл-центра одновременно достигли предела. Повторите, когда какой-нибудь звонок закончится.
softphone-note-outbound-rate-limit = Звонок не совершён: этот колл-центр уже совершил звонки, положенные на эту секунду. Повторите через мгновение.
campaign-outcome-outbound-limit = Отложено: предел звонков одновременно
campaign-outcome-outbound-rate-limit = Отложено: предел звонков в секунду
ivr-field-transfer-failed = Если перевод не удался (пусто: завершить)
ivr-outline-failed = если перевод не удался
