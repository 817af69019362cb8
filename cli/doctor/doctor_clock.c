/*
 * Doctor layer 7, the ground under the certificate checks: the accredited-CA store (present,
 * its version and date, older than 30 days) and the system clock (NTP status from
 * `timedatectl show` when there is one, the time against the list's date and the certificates'
 * start dates). A wrong clock makes every validity verdict wrong, so it is checked here.
 */
#include "doctor_pkcs11.h"
#include "gost.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A date for messages. */
static void day(time_t t, char *out, size_t cap)
{
    struct tm tm;
    if (!t || !gmtime_r(&t, &tm) || !strftime(out, cap, "%Y-%m-%d", &tm))
        snprintf(out, cap, "?");
}

/* certificates.trust_list: the store the chain checks use without --ca-dir. */
void doctor_check_trust_list(doctor_ctx *ctx, const gs_trust_list *l, time_t now)
{
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_CERTIFICATES, "certificates.trust_list", DOCTOR_OK, GS_ERR_OK);
    if (!l) {
        if (c) {
            c->status = DOCTOR_WARN;
            c->code = GS_ERR_TRUST_STORE_MISSING;
        }
        doctor_say(c, "No list of accredited CAs: no certificate can be called qualified",
                   "Нет списка аккредитованных УЦ: ни один сертификат нельзя назвать "
                   "квалифицированным");
        doctor_fix(c,
                   "Run `gostsign trust update --online` (administrators: --system, or enable "
                   "gostsign-trust-update.timer).",
                   "Выполните `gostsign trust update --online` (администратору: --system или "
                   "таймер gostsign-trust-update.timer).");
        return;
    }
    char date[16];
    long age = gs_trust_age_days(l, now);
    day(l->date, date, sizeof(date));
    doctor_ev_str(c, "version", l->version);
    doctor_ev_str(c, "date", date);
    doctor_ev_int(c, "age_days", age);
    doctor_ev_int(c, "accredited", (int64_t)gs_trust_active_count(l));
    if (age > GS_TRUST_MAX_AGE_DAYS && c) {
        c->status = DOCTOR_WARN;
        c->code = GS_ERR_TRUST_LIST_OLD;
        doctor_fix(c, "Run `gostsign trust update --online`.",
                   "Выполните `gostsign trust update --online`.");
    }
    doctor_say(c, "List of accredited CAs: version %s of %s (%ld day(s) old)",
               "Список аккредитованных УЦ: версия %s от %s (%ld дн.)",
               l->version ? l->version : "?", date, age);
}

/* NTP state from `timedatectl show`: 1 synchronised, 0 not, -1 unknown (no systemd, no bus). */
static int ntp_synchronised(char *ntp, size_t cap)
{
    FILE *p = popen("timedatectl show -p NTP -p NTPSynchronized 2>/dev/null", "r");
    char line[128];
    int synced = -1;
    snprintf(ntp, cap, "unknown");
    while (p && fgets(line, sizeof(line), p)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "NTP=", 4) == 0)
            snprintf(ntp, cap, "%.24s", line + 4);
        else if (strncmp(line, "NTPSynchronized=", 16) == 0)
            synced = strcmp(line + 16, "yes") == 0;
    }
    if (p)
        pclose(p);
    return synced;
}

/* Marks the clock check as a warning with the fix that sets the time. */
static void clock_warn(doctor_check *c)
{
    if (!c)
        return;
    c->status = DOCTOR_WARN;
    c->code = GS_ERR_CLOCK_WRONG;
    doctor_fix(c, "Set the date and time: `sudo timedatectl set-ntp true`, or set them by hand.",
               "Установите дату и время: `sudo timedatectl set-ntp true` или вручную.");
}

/*
 * certificates.clock: the clock is behind when the list of accredited CAs is dated more than a
 * day ahead of it, or every certificate on the tokens starts in its future; NTP off is a warning.
 */
void doctor_check_clock(doctor_ctx *ctx, const gs_trust_list *l, time_t now,
                        time_t earliest_not_before)
{
    doctor_check *c =
        doctor_add(ctx, DOCTOR_LAYER_CERTIFICATES, "certificates.clock", DOCTOR_OK, GS_ERR_OK);
    char ntp[32], when[32];
    int synced = ntp_synchronised(ntp, sizeof(ntp));
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    doctor_ev_str(c, "now", when);
    doctor_ev_str(c, "ntp", ntp);
    doctor_ev_str(c, "ntp_synchronized", synced < 0 ? "unknown" : synced ? "yes" : "no");
    if (l && l->date > now + 86400) {
        clock_warn(c);
        doctor_say(c, "The clock (%s) is behind: the list of accredited CAs is dated later",
                   "Часы (%s) отстают: список аккредитованных УЦ датирован позже", when);
    } else if (earliest_not_before && earliest_not_before > now) {
        clock_warn(c);
        doctor_say(c, "The clock (%s) is before the start of every certificate on the tokens",
                   "Часы (%s) показывают время раньше начала действия всех сертификатов", when);
    } else if (synced == 0) {
        clock_warn(c);
        doctor_say(c, "The clock (%s) is not synchronised over NTP (NTP=%s)",
                   "Часы (%s) не синхронизируются по NTP (NTP=%s)", when, ntp);
    } else if (synced > 0) {
        doctor_say(c, "The clock (%s) agrees with the certificates, NTP synchronised",
                   "Часы (%s) согласуются с сертификатами, синхронизированы по NTP", when);
    } else {
        doctor_say(c, "The clock (%s) agrees with the certificates (NTP state unknown)",
                   "Часы (%s) согласуются с сертификатами (состояние NTP неизвестно)", when);
    }
}
