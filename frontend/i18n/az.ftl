# Hotline — Azərbaycan dili (Azerbaijani).
# MACHINE-DRAFTED: every string below was drafted by machine translation and awaits review
# by a native speaker. Covered: shell, login, sign-up, common messages, agent states and
# the agent desktop.
# Missing keys fall back to English (en.ftl).

app-name = Hotline

## Shell
shell-language = Dil
shell-logout = Çıxış
shell-main-nav = Əsas menyu
shell-skip-to-content = Məzmuna keç
state-loading = Yüklənir…
platform-console = Platforma konsolu
nav-agent = Operator masası
nav-users = İstifadəçilər
nav-teams = Komandalar
nav-skills = Bacarıqlar
nav-queues = Növbələr
nav-roles = Rollar
nav-reason-codes = Səbəb kodları
nav-audit = Audit jurnalı
nav-sso = Vahid giriş
nav-tenants = Müştərilər
nav-ivr = IVR (səsli menyu)
nav-campaigns = Kampaniyalar
nav-tickets = Müraciətlər
nav-kb = Bilik bazası
nav-customer-template = Müştəri şablonu
nav-names = Adlar və tərcümələr
nav-customer-import = Müştəriləri idxal et
flash-logged-out = Sistemdən çıxdınız.
flash-no-access = Bu səhifəyə girişiniz yoxdur.
flash-operators-only = Bu səhifə platforma operatorları üçündür. Operator kimi daxil olun.
flash-session-expired = Sessiyanın vaxtı bitdi. Yenidən daxil olun.
flash-signed-out = Sistemdə deyilsiniz. Yenidən daxil olun.
flash-sign-in-first = Davam etmək üçün daxil olun.
flash-signed-up = Çağrı mərkəziniz hazırdır. Həmkarlarınız “{ $arg }” şirkət ID-si ilə daxil olurlar.
flash-user-created = { $arg } istifadəçisi yaradıldı.
notfound-title = Səhifə tapılmadı
notfound-body = Bu ünvanda heç nə yoxdur.
notfound-home = Başlanğıc səhifəyə keç

## Common
action-save = Yadda saxla
action-cancel = Ləğv et
action-retry = Yenidən cəhd et
action-dismiss = Bağla
action-search = Axtar
action-edit = Redaktə et
action-delete = Sil
answer-yes = Bəli
answer-no = Xeyr
notice-saved = Yadda saxlanıldı.
pager-prev = Əvvəlki
pager-next = Növbəti
pager-status = Səhifə { $page } / { $pages } · cəmi { $total }
form-required = Bu sahə mütləqdir.
form-invalid-email = E-poçt ünvanı daxil edin, məsələn ad@example.com.
form-password-mismatch = Parollar uyğun gəlmir.
password-hint = Ən azı 10 simvol. Bir-biri ilə əlaqəsi olmayan bir neçə söz güclü paroldur; simvollar lazım deyil.
password-strength = Etibarlılıq: { $level }
password-strength-0 = çox zəif
password-strength-1 = zəif
password-strength-2 = orta
password-strength-3 = güclü
password-strength-4 = çox güclü
password-problem-too-short = Ən azı 10 simvol olmalıdır.
password-problem-too-long = Ən çoxu 128 simvol ola bilər.
password-problem-personal = E-poçt ünvanınızı, adınızı və ya şirkətin adını ehtiva etməməlidir.
password-problem-weak = Təxmin etmək çox asandır. Sizinlə bağlı olmayan bir neçə sözdən istifadə edin.
password-warning-straight-rows = Düz sıra ilə düymələri təxmin etmək asandır.
password-warning-keyboard-pattern = Qısa klaviatura naxışlarını təxmin etmək asandır.
password-warning-repeats = "aaa" kimi təkrarları təxmin etmək asandır.
password-warning-repeated-words = "abcabcabc" kimi təkrarları təxmin etmək "abc"-dən bir az çətindir.
password-warning-top10 = Bu, ən çox istifadə olunan 10 paroldan biridir.
password-warning-top100 = Bu, ən çox istifadə olunan 100 paroldan biridir.
password-warning-common = Bu, çox yayılmış paroldur.
password-warning-similar-to-common = Bu, tez-tez istifadə olunan parola bənzəyir.
password-warning-sequences = abc və ya 6543 kimi ardıcıllıqları təxmin etmək asandır.
password-warning-recent-years = Son illəri təxmin etmək asandır.
password-warning-single-word = Tək bir sözü təxmin etmək asandır.
password-warning-dates = Tarixləri çox vaxt təxmin etmək asandır.
password-warning-names = Tək ad və soyadları təxmin etmək asandır.
password-warning-common-names = Yayılmış ad və soyadları təxmin etmək asandır.
password-suggestion-few-words = Bir neçə sözdən istifadə edin; yayılmış ifadələrdən qaçın.
password-suggestion-no-symbols-needed = Simvollar, rəqəmlər və ya böyük hərflər lazım deyil.
password-suggestion-add-word = Daha bir-iki söz əlavə edin. Nadir sözlər daha yaxşıdır.
password-suggestion-capitalization = Böyük hərflər çox kömək etmir.
password-suggestion-all-uppercase = Yalnız böyük hərfləri təxmin etmək yalnız kiçik hərflər qədər asandır.
password-suggestion-reversed = Tərsinə yazılmış sözləri təxmin etmək o qədər də çətin deyil.
password-suggestion-substitutions = "a" əvəzinə "@" kimi gözlənilən əvəzləmələr çox kömək etmir.
password-suggestion-longer-keyboard = Daha çox dönüşü olan uzun klaviatura naxışından istifadə edin.
password-suggestion-avoid-repeats = Təkrarlanan söz və simvollardan qaçın.
password-suggestion-avoid-sequences = Ardıcıllıqlardan qaçın.
password-suggestion-avoid-recent-years = Son illərdən qaçın.
password-suggestion-avoid-your-years = Sizinlə bağlı illərdən qaçın.
password-suggestion-avoid-your-dates = Sizinlə bağlı tarix və illərdən qaçın.
error-network = Serverə qoşulmaq mümkün deyil. Bağlantını yoxlayın və yenidən cəhd edin.
error-server = Serverdə problem yarandı. Bir azdan yenidən cəhd edin.
error-status = Sorğu uğursuz oldu (HTTP { $status }).
problem-invalid-credentials = Şirkət ID-si, e-poçt və ya parol yanlışdır.
problem-login-locked = Çoxlu uğursuz cəhd. Bir neçə dəqiqə gözləyin.
problem-session-expired = Sessiyanın vaxtı bitdi. Yenidən daxil olun.
problem-unauthenticated = Daxil olun.
problem-forbidden = Bunu etməyə icazəniz yoxdur.
problem-not-found = Tapılmadı. Silinmiş ola bilər.
problem-validation-failed = Bəzi sahələrə diqqət lazımdır.
problem-slug-taken = Bu şirkət ID-si artıq tutulub.
problem-email-taken = Bu e-poçtla istifadəçi artıq mövcuddur.
problem-tenant-suspended = Bu şirkətin hesabı dayandırılıb. Dəstək xidmətinə müraciət edin.

## Login
login-title = Hotline-a daxil olun
login-tenant = Şirkət ID-si
login-tenant-hint = Şirkətinizin qeydiyyatda seçdiyi qısa ad, məsələn acme.
login-email = E-poçt
login-password = Parol
login-submit = Daxil ol
login-submitting = Daxil olunur…
login-or = və ya
login-sso = SSO ilə daxil ol ({ $company })
login-no-account = Hotline-da yenisiniz?
login-signup-link = Çağrı mərkəzi yaradın
login-operator-link = Platforma operatorunun girişi
sso-error-generic = Vahid giriş alınmadı ({ $code }). Yenidən cəhd edin və ya paroldan istifadə edin.

## Sign-up
signup-title = Çağrı mərkəzinizi yaradın
signup-intro = Siz onun ilk administratoru olacaqsınız. Bir dəqiqə çəkir.
signup-company = Şirkətin adı
signup-slug = Şirkət ID-si
signup-slug-hint = Giriş üçün istifadə olunur. Hərflər, rəqəmlər və tire; boş qalarsa şirkət adından yaradılır.
signup-name = Adınız
signup-email = E-poçtunuz
signup-password = Parol
signup-submit = Çağrı mərkəzi yarat
signup-submitting = Yaradılır…
signup-have-account = Artıq hesabınız var?
signup-login-link = Daxil olun

## Agent states
agent-state = Statusum
agent-status-ready = Hazır
agent-status-not-ready = Hazır deyil
agent-status-break = Fasilə
agent-status-logged-out = Sistemdən çıxıb
agent-status-ringing = Zəng çalır
agent-status-on-call = Zəngdə
agent-status-wrap-up = Zəngdən sonrakı iş
agent-option-not-ready = Hazır deyil — { $reason }
agent-option-break = Fasilə — { $reason }
agent-change-state = Statusu dəyiş
agent-apply-state = Statusu dəyiş
agent-since = { $time } -dan

## Agent desktop (machine-drafted)
agent-title = Operator masası
agent-shortcuts = Qısayollar: Alt+1 status · Alt+2 softfon · Alt+3 müştəri · Alt+4 müraciət · Alt+5 bilik bazası
agent-softphone = Softfon
agent-softphone-placeholder = Mərkəziniz üçün telefoniya aktiv olunduqda softfon burada qoşulacaq.
agent-dial-number = Zəng ediləcək nömrə
agent-call = Zəng et
agent-hold = Gözlət
agent-transfer = Yönləndir
agent-hang-up = Zəngi bitir
agent-customer = Müştəri
agent-customer-placeholder = Aktiv zəng yoxdur. Zəng təklif olunduqda zəng edənin kartı burada görünəcək.
agent-customer-name = Ad
agent-customer-phone = Telefon
agent-customer-account = Hesab
agent-customer-history = Son müraciətlər
agent-interaction = Müraciət
agent-interaction-placeholder = Zəng zamanı müraciəti təsnif edin və qeydlər aparın.
agent-category = Kateqoriya
agent-notes = Qeydlər
agent-save-interaction = Müraciəti yadda saxla
agent-kb = Bilik bazası
agent-kb-search = Məqalələri axtar
agent-kb-placeholder = Bilik bazası qurulduqdan sonra axtarışınıza uyğun məqalələr burada görünəcək.
account-title = Hesabım

## IVR (headings and main actions; the rest falls back to English)
ivr-title = IVR (səsli menyu)
ivr-flows = Axınlar
ivr-flow-new = Yeni axın
ivr-prompts = Səsli mesajlar
ivr-numbers = Nömrələr
ivr-versions = Versiyalar
ivr-publish = Dərc et
ivr-prompt-upload = Yüklə
ivr-flow-save = Yeni versiya kimi saxla
call-keypad = Klaviatura
call-consult-to = Əvvəlcə məsləhətləşin (nömrə və ya həmkarın daxili nömrəsi)
call-consult = Məsləhətləş
call-consult-dialling = Zəng edilir… zəng edən gözləmədədir.
call-consult-talking = Məsləhətləşdiyiniz şəxslə danışırsınız; zəng edən gözləmədədir.
call-consult-conference-on = Konfrans: zəng edən, siz və məsləhətləşdiyiniz şəxs.
call-consult-transfer = Zəng edəni ötürün
call-consult-conference = Üçü birlikdə konfrans
call-consult-cancel = Zəng edənə qayıt
call-consult-leave = Onları danışmağa buraxın
call-consult-drop = Məsləhətləşdiyiniz şəxsin iştirakını bitirin

## Agent readiness: system reason codes, audio device, softphone loss
softphone-failed = Softfon qoşulmayıb
softphone-reconnect = Yenidən qoş
reason-builtin-missed = Buraxılmış zəng
reason-builtin-rejected = İmtina edildi
reason-builtin-softphone-lost = Softfon bağlantısı itdi
reason-builtin-phone-unreachable = Telefon əlçatmazdır
reasons-builtin = Daxili
reasons-builtin-hint = Sistem səbəbi: zəng mərkəzi onu özü təyin edir. Onu silmək və ya adını dəyişmək olmaz.
problem-no-audio-device = Hələ zəng qəbul edə bilməzsiniz: softfon qoşulmayıb və masaüstü telefon qeydiyyatda deyil. Brauzerdə mikrofona icazə verin və softfonu yenidən qoşun, ya da masaüstü telefonunuzu qeydiyyatdan keçirin, sonra yenidən «Hazır» seçin.
problem-builtin-reason-code = Bu, sistemin istifadə etdiyi daxili səbəb kodudur: onu silmək olmaz.
softphone-failed-why = Qoşulmaq alınmadı: { $detail }
softphone-mic-denied = Mikrofona giriş bloklanıb. Brauzerdə bu sayt üçün mikrofona icazə verin (ünvan sətrindəki işarə), sonra «Yenidən qoş» düyməsini basın. O vaxta qədər masaüstü telefonunuz qeydiyyatda deyilsə, «Hazır» ola bilməzsiniz.
softphone-mic-missing = Mikrofon tapılmadı. Qulaqlıq qoşun, sonra «Yenidən qoş» düyməsini basın. O vaxta qədər masaüstü telefonunuz qeydiyyatda deyilsə, «Hazır» ola bilməzsiniz.
softphone-mic-busy = Mikrofon başqa proqram tərəfindən istifadə olunur və ya açıla bilmir. Həmin proqramı bağlayın, sonra «Yenidən qoş» düyməsini basın.
softphone-mic-failed = Mikrofonu açmaq alınmadı ({ $detail }). Qulaqlığı yoxlayın, sonra «Yenidən qoş» düyməsini basın.
softphone-lost = Softfon bağlantısı itdi. «Yenidən qoş» düyməsini basın.
softphone-lost-not-ready = Softfon bağlantısı itdi, buna görə vəziyyətiniz «Hazır deyil» (Softfon bağlantısı itdi) oldu. «Yenidən qoş» düyməsini basın, sonra yenidən «Hazır» seçin.
softphone-sound-blocked = Brauzer zəngin səsini blokladı. Zəng edənləri eşitmək üçün «Səsi aç» düyməsini basın.
softphone-enable-audio = Səsi aç
softphone-note-phone-not-registered = Masaüstü telefonunuz cavab vermədi: qeydiyyatda deyil (480). Zəng növbəyə qaytarıldı.
softphone-note-phone-busy = Masaüstü telefonunuz məşğul idi və ya zəngi qəbul etmədi. Zəng növbəyə qaytarıldı.
softphone-note-phone-declined = Masaüstü telefonda imtina edildi: zəng növbəyə qaytarıldı.
softphone-note-phone-no-answer = Masaüstü telefonunuz vaxtında cavab vermədi. Zəng növbəyə qaytarıldı.
softphone-note-phone-failed = Masaüstü telefonunuz zəngi qəbul edə bilmədi. Zəng növbəyə qaytarıldı.
softphone-note-phone-failed-status = Masaüstü telefonunuz zəngi qəbul edə bilmədi (SIP { $status }). Zəng növbəyə qaytarıldı.
softphone-note-no-device = Zəng sizə çata bilmədi: softfon qoşulmayıb və masaüstü telefonunuz yoxdur. Zəng növbəyə qaytarıldı.
softphone-note-softphone-lost = Zəng çalarkən softfon bağlantısı itdi. Zəng növbəyə qaytarıldı.

# Names and translations of the tenant's own names (categories, ticket types, statuses)
names-title = Adlar və tərcümələr
names-intro = Mərkəzinizin təyin etdiyi adlar, hər dildə. İstifadəçi adı öz dilində görür; tərcümə yoxdursa, adın özünü.
names-categories = Zəng kateqoriyaları
names-ticket-types = Müraciət növləri
names-statuses = Statuslar
names-moves = Keçidlər (düymələr)
names-translations = Tərcümələr
names-saved = Tərcümələr yadda saxlanıldı.

## Outbound calls: operator console, gateway refusals, IVR transfer failure (machine-drafted, awaiting review)
platform-outbound = Çıxan zənglər
platform-outbound-title = Çıxan zənglər: { $tenant }
platform-outbound-trial = Sınaq
platform-outbound-trial-hint = Sınaq çağrı mərkəzi eyni anda ən çox 2, gündə 50 və saniyədə 2 çıxan zəng edir. Sınağı ləğv etmək üçün işarəni götürün.
platform-outbound-countries = İcazəli ölkələr
platform-outbound-countries-hint = Ölkə kodları, vergüllə (994, 48, 1). Boş: yalnız çağrı mərkəzinin öz ölkəsi.
platform-outbound-blocked = Bloklanmış prefikslər
platform-outbound-blocked-hint = Daxili premium siyahıdan əlavə rədd edilən prefikslər, vergüllə (+99490).
platform-outbound-max-calls = Eyni anda zənglər
platform-outbound-max-calls-hint = Eyni anda gedən çıxan zənglər, 0-dan 100000-ə qədər. Boş: platformanın standartı (200).
platform-outbound-max-cps = Saniyədə zənglər
platform-outbound-max-cps-hint = Saniyədə edilən çıxan zənglər, 1-dən 10000-ə qədər. Boş: platformanın standartı (10). Media şlüzləri də bunu tətbiq edir.
platform-outbound-save = Çıxan zəng qaydalarını saxla
platform-outbound-close = Bağla
platform-outbound-saved = Çıxan zəng qaydaları saxlanıldı. Media şlüzləri onları növbəti zəngə tətbiq edir.
platform-outbound-whole-number = Tam ədəd daxil edin və ya boş buraxın.
softphone-note-outbound-limit = Zəng edilmədi: bu çağrı mərkəzinin eyni anda çıxan zəngləri limitdədir. Bir zəng bitəndə yenidən cəhd edin.
softphone-note-outbound-rate-limit = Zəng edilmədi: bu çağrı mərkəzi bu saniyənin zənglərini artıq edib. Bir azdan yenidən cəhd edin.
campaign-outcome-outbound-limit = Gözlədilir: eyni anda zənglər limitdədir
campaign-outcome-outbound-rate-limit = Gözlədilir: saniyədə zənglər limitdədir
ivr-field-transfer-failed = Köçürmə alınmasa (boş: zəngi bitir)
ivr-outline-failed = köçürmə alınmasa
