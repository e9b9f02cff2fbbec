# Hotline — polski (Polish).
# MACHINE-DRAFTED: every string below was drafted by machine translation and awaits review
# by a native speaker. Covered: shell, login, sign-up, common messages, agent states and
# the agent desktop.
# Missing keys fall back to English (en.ftl).

app-name = Hotline

## Shell
shell-language = Język
shell-logout = Wyloguj
shell-main-nav = Nawigacja główna
shell-skip-to-content = Przejdź do treści
state-loading = Ładowanie…
platform-console = Konsola platformy
nav-agent = Pulpit agenta
nav-users = Użytkownicy
nav-teams = Zespoły
nav-skills = Umiejętności
nav-queues = Kolejki
nav-roles = Role
nav-reason-codes = Kody przyczyn
nav-audit = Dziennik zdarzeń
nav-sso = Logowanie jednokrotne
nav-tenants = Klienci
nav-ivr = IVR
nav-campaigns = Kampanie
nav-tickets = Zgłoszenia
nav-kb = Baza wiedzy
nav-customer-template = Szablon klienta
nav-names = Nazwy i tłumaczenia
nav-customer-import = Import klientów
flash-logged-out = Wylogowano.
flash-no-access = Nie masz dostępu do tej strony.
flash-operators-only = Ta strona jest dla operatorów platformy. Zaloguj się jako operator.
flash-session-expired = Sesja wygasła. Zaloguj się ponownie.
flash-signed-out = Nie jesteś zalogowany. Zaloguj się ponownie.
flash-sign-in-first = Zaloguj się, aby kontynuować.
flash-signed-up = Twoje centrum obsługi jest gotowe. Współpracownicy logują się identyfikatorem firmy „{ $arg }”.
flash-user-created = Utworzono użytkownika { $arg }.
notfound-title = Nie znaleziono strony
notfound-body = Pod tym adresem nic nie ma.
notfound-home = Przejdź do strony startowej

## Common
action-save = Zapisz
action-cancel = Anuluj
action-retry = Spróbuj ponownie
action-dismiss = Zamknij
action-search = Szukaj
action-edit = Edytuj
action-delete = Usuń
answer-yes = Tak
answer-no = Nie
notice-saved = Zapisano.
pager-prev = Poprzednia
pager-next = Następna
pager-status = Strona { $page } z { $pages } · razem { $total }
form-required = To pole jest wymagane.
form-invalid-email = Podaj adres e-mail, np. imie@example.com.
form-password-mismatch = Hasła nie są zgodne.
password-hint = Co najmniej 10 znaków. Kilka niezwiązanych słów to silne hasło; symbole nie są potrzebne.
password-strength = Siła: { $level }
password-strength-0 = bardzo słabe
password-strength-1 = słabe
password-strength-2 = przeciętne
password-strength-3 = silne
password-strength-4 = bardzo silne
password-problem-too-short = Musi mieć co najmniej 10 znaków.
password-problem-too-long = Może mieć najwyżej 128 znaków.
password-problem-personal = Nie może zawierać Twojego adresu e-mail, imienia i nazwiska ani nazwy firmy.
password-problem-weak = Zbyt łatwe do odgadnięcia. Użyj kilku słów, które nie dotyczą Ciebie.
password-warning-straight-rows = Rzędy klawiszy łatwo odgadnąć.
password-warning-keyboard-pattern = Krótkie wzory z klawiatury łatwo odgadnąć.
password-warning-repeats = Powtórzenia typu „aaa” łatwo odgadnąć.
password-warning-repeated-words = Powtórzenia typu „abcabcabc” są tylko trochę trudniejsze do odgadnięcia niż „abc”.
password-warning-top10 = To jedno z 10 najpopularniejszych haseł.
password-warning-top100 = To jedno ze 100 najpopularniejszych haseł.
password-warning-common = To bardzo popularne hasło.
password-warning-similar-to-common = To hasło przypomina często używane hasło.
password-warning-sequences = Ciągi typu abc lub 6543 łatwo odgadnąć.
password-warning-recent-years = Ostatnie lata łatwo odgadnąć.
password-warning-single-word = Pojedyncze słowo łatwo odgadnąć.
password-warning-dates = Daty często łatwo odgadnąć.
password-warning-names = Same imiona i nazwiska łatwo odgadnąć.
password-warning-common-names = Popularne imiona i nazwiska łatwo odgadnąć.
password-suggestion-few-words = Użyj kilku słów; unikaj popularnych zwrotów.
password-suggestion-no-symbols-needed = Symbole, cyfry i wielkie litery nie są potrzebne.
password-suggestion-add-word = Dodaj jeszcze jedno lub dwa słowa. Lepsze są rzadkie słowa.
password-suggestion-capitalization = Wielkie litery niewiele pomagają.
password-suggestion-all-uppercase = Same wielkie litery są prawie tak łatwe do odgadnięcia jak same małe.
password-suggestion-reversed = Słowa pisane wspak nie są dużo trudniejsze do odgadnięcia.
password-suggestion-substitutions = Przewidywalne zamiany, np. „@” zamiast „a”, niewiele pomagają.
password-suggestion-longer-keyboard = Użyj dłuższego wzoru z klawiatury z większą liczbą zakrętów.
password-suggestion-avoid-repeats = Unikaj powtarzania słów i znaków.
password-suggestion-avoid-sequences = Unikaj ciągów.
password-suggestion-avoid-recent-years = Unikaj ostatnich lat.
password-suggestion-avoid-your-years = Unikaj lat związanych z Tobą.
password-suggestion-avoid-your-dates = Unikaj dat i lat związanych z Tobą.
error-network = Brak połączenia z serwerem. Sprawdź połączenie i spróbuj ponownie.
error-server = Wystąpił problem po stronie serwera. Spróbuj ponownie za chwilę.
error-status = Żądanie nie powiodło się (HTTP { $status }).
problem-invalid-credentials = Nieprawidłowy identyfikator firmy, e-mail lub hasło.
problem-login-locked = Zbyt wiele nieudanych prób. Odczekaj kilka minut.
problem-session-expired = Sesja wygasła. Zaloguj się ponownie.
problem-unauthenticated = Zaloguj się.
problem-forbidden = Nie masz uprawnień do tej operacji.
problem-not-found = Nie znaleziono. Być może zostało usunięte.
problem-validation-failed = Niektóre pola wymagają poprawy.
problem-slug-taken = Ten identyfikator firmy jest już zajęty.
problem-email-taken = Użytkownik z tym adresem e-mail już istnieje.
problem-tenant-suspended = Konto tej firmy jest zawieszone. Skontaktuj się z pomocą techniczną.

## Login
login-title = Zaloguj się do Hotline
login-tenant = Identyfikator firmy
login-tenant-hint = Krótka nazwa wybrana przez firmę przy rejestracji, np. acme.
login-email = E-mail
login-password = Hasło
login-submit = Zaloguj się
login-submitting = Logowanie…
login-or = lub
login-sso = Zaloguj się przez SSO ({ $company })
login-no-account = Nowy w Hotline?
login-signup-link = Utwórz centrum obsługi
login-operator-link = Logowanie operatora platformy
sso-error-generic = Logowanie jednokrotne nie powiodło się ({ $code }). Spróbuj ponownie lub użyj hasła.

## Sign-up
signup-title = Utwórz swoje centrum obsługi
signup-intro = Zostaniesz jego pierwszym administratorem. To zajmie minutę.
signup-company = Nazwa firmy
signup-slug = Identyfikator firmy
signup-slug-hint = Służy do logowania. Litery, cyfry i myślniki; jeśli puste, powstanie z nazwy firmy.
signup-name = Imię i nazwisko
signup-email = Twój e-mail
signup-password = Hasło
signup-submit = Utwórz centrum obsługi
signup-submitting = Tworzenie…
signup-have-account = Masz już konto?
signup-login-link = Zaloguj się

## Agent states
agent-state = Mój status
agent-status-ready = Gotowy
agent-status-not-ready = Niegotowy
agent-status-break = Przerwa
agent-status-logged-out = Wylogowany
agent-status-ringing = Dzwoni
agent-status-on-call = W rozmowie
agent-status-wrap-up = Obsługa po rozmowie
agent-option-not-ready = Niegotowy — { $reason }
agent-option-break = Przerwa — { $reason }
agent-change-state = Zmień status na
agent-apply-state = Zmień status
agent-since = od { $time }

## Agent desktop (machine-drafted)
agent-title = Pulpit agenta
agent-shortcuts = Skróty: Alt+1 status · Alt+2 softfon · Alt+3 klient · Alt+4 zgłoszenie · Alt+5 baza wiedzy
agent-softphone = Softfon
agent-softphone-placeholder = Softfon pojawi się tutaj, gdy telefonia zostanie włączona dla Twojego centrum.
agent-dial-number = Numer do wybrania
agent-call = Zadzwoń
agent-hold = Zawieś
agent-transfer = Przekaż
agent-hang-up = Rozłącz
agent-customer = Klient
agent-customer-placeholder = Brak połączenia. Karta dzwoniącego pojawi się tutaj, gdy połączenie zostanie zaoferowane.
agent-customer-name = Nazwa
agent-customer-phone = Telefon
agent-customer-account = Konto
agent-customer-history = Ostatnie zgłoszenia
agent-interaction = Zgłoszenie
agent-interaction-placeholder = Podczas rozmowy sklasyfikuj zgłoszenie i zanotuj szczegóły.
agent-category = Kategoria
agent-notes = Notatki
agent-save-interaction = Zapisz zgłoszenie
agent-kb = Baza wiedzy
agent-kb-search = Szukaj artykułów
agent-kb-placeholder = Artykuły pasujące do wyszukiwania pojawią się tutaj po skonfigurowaniu bazy wiedzy.
account-title = Moje konto

## IVR (headings and main actions; the rest falls back to English)
ivr-title = IVR
ivr-flows = Scenariusze
ivr-flow-new = Nowy scenariusz
ivr-prompts = Komunikaty
ivr-numbers = Numery
ivr-versions = Wersje
ivr-publish = Opublikuj
ivr-prompt-upload = Prześlij
ivr-flow-save = Zapisz jako nową wersję
call-keypad = Klawiatura
call-consult-to = Najpierw konsultacja (numer lub numer wewnętrzny współpracownika)
call-consult = Konsultuj
call-consult-dialling = Łączenie… rozmówca czeka na linii.
call-consult-talking = Rozmawiasz z konsultowaną osobą; rozmówca czeka na linii.
call-consult-conference-on = Konferencja: rozmówca, ty i konsultowana osoba.
call-consult-transfer = Przekaż rozmówcę
call-consult-conference = Konferencja we troje
call-consult-cancel = Wróć do rozmówcy
call-consult-leave = Wyjdź, niech rozmawiają
call-consult-drop = Rozłącz konsultowaną osobę

## Agent readiness: system reason codes, audio device, softphone loss
softphone-failed = Softfon niepołączony
softphone-reconnect = Połącz ponownie
reason-builtin-missed = Nieodebrane połączenie
reason-builtin-rejected = Odrzucone
reason-builtin-softphone-lost = Utracono softfon
reason-builtin-phone-unreachable = Telefon nieosiągalny
reasons-builtin = Wbudowany
reasons-builtin-hint = Powód systemowy: centrum ustawia go samo. Nie można go usunąć ani zmienić jego nazwy.
problem-no-audio-device = Nie możesz jeszcze odbierać połączeń: softfon nie jest połączony i żaden telefon biurkowy nie jest zarejestrowany. Zezwól przeglądarce na użycie mikrofonu i połącz ponownie softfon albo zarejestruj telefon biurkowy, a potem ponownie wybierz „Gotowy”.
problem-builtin-reason-code = To wbudowany kod powodu używany przez system: nie można go usunąć.
softphone-failed-why = Nie udało się połączyć: { $detail }
softphone-mic-denied = Dostęp do mikrofonu jest zablokowany. Zezwól tej stronie na użycie mikrofonu w przeglądarce (ikona na pasku adresu), a potem naciśnij „Połącz ponownie”. Do tego czasu nie możesz być „Gotowy”, chyba że masz zarejestrowany telefon biurkowy.
softphone-mic-missing = Nie znaleziono mikrofonu. Podłącz zestaw słuchawkowy, a potem naciśnij „Połącz ponownie”. Do tego czasu nie możesz być „Gotowy”, chyba że masz zarejestrowany telefon biurkowy.
softphone-mic-busy = Mikrofon jest używany przez inny program lub nie można go otworzyć. Zamknij ten program, a potem naciśnij „Połącz ponownie”.
softphone-mic-failed = Nie udało się otworzyć mikrofonu ({ $detail }). Sprawdź zestaw słuchawkowy, a potem naciśnij „Połącz ponownie”.
softphone-lost = Utracono połączenie softfonu. Naciśnij „Połącz ponownie”.
softphone-lost-not-ready = Utracono połączenie softfonu, więc ustawiono cię jako „Niegotowy” (Utracono softfon). Naciśnij „Połącz ponownie”, a potem ponownie wybierz „Gotowy”.
softphone-sound-blocked = Przeglądarka zablokowała dźwięk rozmowy. Kliknij „Włącz dźwięk”, aby słyszeć dzwoniących.
softphone-enable-audio = Włącz dźwięk
softphone-note-phone-not-registered = Twój telefon biurkowy nie odpowiedział: nie jest zarejestrowany (480). Połączenie wróciło do kolejki.
softphone-note-phone-busy = Twój telefon biurkowy był zajęty lub odrzucił połączenie. Połączenie wróciło do kolejki.
softphone-note-phone-declined = Odrzucono na telefonie biurkowym: połączenie wróciło do kolejki.
softphone-note-phone-no-answer = Twój telefon biurkowy nie odpowiedział na czas. Połączenie wróciło do kolejki.
softphone-note-phone-failed = Twój telefon biurkowy nie mógł przyjąć połączenia. Połączenie wróciło do kolejki.
softphone-note-phone-failed-status = Twój telefon biurkowy nie mógł przyjąć połączenia (SIP { $status }). Połączenie wróciło do kolejki.
softphone-note-no-device = Połączenie nie mogło do ciebie dotrzeć: softfon nie jest połączony i nie masz telefonu biurkowego. Wróciło do kolejki.
softphone-note-softphone-lost = Połączenie softfonu zostało utracone, gdy dzwoniło połączenie. Wróciło ono do kolejki.

# Names and translations of the tenant's own names (categories, ticket types, statuses)
names-title = Nazwy i tłumaczenia
names-intro = Nazwy zdefiniowane przez Twoje centrum, w każdym języku. Użytkownik widzi nazwę w swoim języku, a gdy jej brak — nazwę oryginalną.
names-categories = Kategorie kontaktów
names-ticket-types = Typy zgłoszeń
names-statuses = Statusy
names-moves = Przejścia (przyciski)
names-translations = Tłumaczenia
names-saved = Tłumaczenia zapisane.

## Outbound calls: operator console, gateway refusals, IVR transfer failure (machine-drafted, awaiting review)
platform-outbound = Połączenia wychodzące
platform-outbound-title = Połączenia wychodzące: { $tenant }
platform-outbound-trial = Okres próbny
platform-outbound-trial-hint = Centrum w okresie próbnym wykonuje najwyżej 2 połączenia wychodzące naraz, 50 dziennie i 2 na sekundę. Odznacz, aby znieść okres próbny.
platform-outbound-countries = Dozwolone kraje
platform-outbound-countries-hint = Numery kierunkowe krajów, rozdzielone przecinkami (994, 48, 1). Puste: tylko własny kraj centrum.
platform-outbound-blocked = Zablokowane prefiksy
platform-outbound-blocked-hint = Prefiksy odrzucane oprócz wbudowanej listy numerów premium, rozdzielone przecinkami (+99490).
platform-outbound-max-calls = Połączenia naraz
platform-outbound-max-calls-hint = Połączenia wychodzące w toku naraz, od 0 do 100000. Puste: domyślne ustawienie platformy (200).
platform-outbound-max-cps = Połączenia na sekundę
platform-outbound-max-cps-hint = Połączenia wychodzące na sekundę, od 1 do 10000. Puste: domyślne ustawienie platformy (10). Bramki medialne też to egzekwują.
platform-outbound-save = Zapisz reguły połączeń wychodzących
platform-outbound-close = Zamknij
platform-outbound-saved = Reguły połączeń wychodzących zapisane. Bramki medialne stosują je od następnego połączenia.
platform-outbound-whole-number = Wpisz liczbę całkowitą lub zostaw puste.
softphone-note-outbound-limit = Połączenie nie zostało wykonane: połączenia wychodzące naraz tego centrum osiągnęły limit. Spróbuj ponownie, gdy jakieś się zakończy.
softphone-note-outbound-rate-limit = Połączenie nie zostało wykonane: to centrum wykonało już połączenia przypadające na tę sekundę. Spróbuj za chwilę.
campaign-outcome-outbound-limit = Wstrzymane: limit połączeń naraz
campaign-outcome-outbound-rate-limit = Wstrzymane: limit połączeń na sekundę
ivr-field-transfer-failed = Gdy przekazanie się nie uda (puste: rozłącz)
ivr-outline-failed = gdy przekazanie się nie uda
