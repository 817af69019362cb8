/*
 * The help pages of the `gostsign` subcommands: `gostsign COMMAND --help` prints one and exits 0,
 * for every command alike, so a user never has to guess whether --help runs the command. The
 * pages mirror the man page gostsign(1) (docs/man/gostsign.1). Calls only cli/report.c.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    const char *page;
} help_page;

static const help_page pages[] = {
    { "sign",
      "Usage: gostsign sign [--cert ID] [--attached] FILE -o OUT.p7s\n"
      "       gostsign sign --batch [--cert ID] FILE... --out-dir DIR\n"
      "       gostsign sign --key-file KEY.pem --cert CERT.pem [--attached] FILE -o OUT.p7s\n\n"
      "Signs FILE with the key on your token (CAdES-BES, GOST R 34.10-2012), through\n"
      "gostsign-agent: the agent shows its own PIN dialog naming the document, the certificate\n"
      "and the token. The output path and folder are checked before the PIN is asked.\n\n"
      "Options:\n"
      "  --cert ID        the certificate (its SHA-1 thumbprint as `gostsign certs` shows it, or\n"
      "                   a unique prefix); with several certificates and no --cert you are\n"
      "                   asked to choose at the terminal\n"
      "  -o, --out FILE   where to write the signature (.p7s, DER)\n"
      "  --attached       put the file's content into the signature (default: detached)\n"
      "  --batch          sign many files after one PIN; needs --out-dir DIR (created when\n"
      "                   missing), writes DIR/NAME.p7s for each file\n"
      "  --key-file KEY   developer tool: sign with a software key file instead of a token\n\n"
      "Example:\n"
      "  gostsign sign --cert 2dd48ab5 contract.pdf -o contract.pdf.p7s\n" },
    { "verify",
      "Usage: gostsign verify [--content FILE] [--ca-dir DIR | --ca-file FILE] [--crl FILE]\n"
      "                       [--online] [--json] SIGNATURE.p7s\n\n"
      "Verifies a CMS / CAdES-BES signature: the signature value, the digest of the content,\n"
      "the signer's certificate chain up to a trusted root and its revocation. Exits 0 only\n"
      "when the signature is valid; otherwise with the error number (`gostsign errors`).\n\n"
      "Options:\n"
      "  --content FILE   the signed file of a detached signature\n"
      "  --ca-dir DIR     trusted root and intermediate certificates (PEM/DER files)\n"
      "  --ca-file FILE   one file of trusted certificates\n"
      "  --crl FILE       a CRL to check revocation with; --online fetches CRL/OCSP\n"
      "  --json           machine-readable result\n" },
    { "tokens",
      "Usage: gostsign tokens [--json]\n\n"
      "Lists the tokens gostsign-agent sees (starting the agent when needed): id, label, maker\n"
      "and model, serial number and the PIN state (locked, final try, PIN pad).\n"
      "The id is what `gostsign agent unpause TOKEN` takes.\n" },
    { "certs",
      "Usage: gostsign certs [--json]\n\n"
      "Lists the certificates that can sign (a private key on a present token): the ID (SHA-1\n"
      "thumbprint, accepted by every command, a unique prefix is enough), owner and\n"
      "organisation with the INN/OGRN the certificate has, validity, status and token.\n" },
    { "agent",
      "Usage: gostsign agent status | stop | restart | unpause TOKEN [--yes]\n\n"
      "  status           whether gostsign-agent runs: version, protocol, socket\n"
      "  stop             ask the agent to exit (it starts again on demand)\n"
      "  restart          stop it and start it again\n"
      "  unpause TOKEN    end the agent's pause after wrong PINs for TOKEN (its id from\n"
      "                   `gostsign tokens`); asks you to confirm at the terminal, refuses when\n"
      "                   the input is not a terminal unless --yes is given\n" },
    { "token",
      "Usage: gostsign token list|certs [--module PATH]...\n"
      "       gostsign token sign [--module PATH]... [--cert ID] [--pinentry PROG] [--attached]\n"
      "                           FILE -o OUT.p7s\n"
      "       gostsign token change-pin|unblock [--token ID]\n\n"
      "Works with PKCS#11 tokens directly, without the agent (for administrators and tests):\n"
      "  list             the tokens of the loaded modules\n"
      "  certs            their certificates, with the ID (SHA-1 thumbprint) and the CKA_ID;\n"
      "                   a certificate without its key gets a hint where the key usually is\n"
      "  sign             sign on the token; the PIN is asked with pinentry\n"
      "Through the agent's dialogs (never a PIN on the command line; the token's PIN length\n"
      "rules are shown and checked first; --token ID names the token, see `gostsign tokens`):\n"
      "  change-pin       the current PIN, then the new PIN twice (C_SetPIN)\n"
      "  unblock          the administrator's SO PIN / PUK, then the new PIN twice\n"
      "                   (C_Login as SO + C_InitPIN): for a locked PIN\n"
      "Options:\n"
      "  --module PATH    a PKCS#11 module to load (p11-kit's modules are loaded anyway)\n"
      "  --cert ID        the certificate: thumbprint, unique prefix, or its CKA_ID in hex\n" },
    { "cert",
      "Usage: gostsign cert show [--json] [--check] CERT|ID|-\n"
      "       gostsign cert show --chain [--ca-dir DIR] [--crl FILE] [--online] [--timeout S] "
      "CERT\n\n"
      "Shows a certificate: owner, organisation, INN/OGRN, validity, key, thumbprints. CERT is\n"
      "a file (PEM or DER, - for stdin) or the ID of a certificate on a token (as `gostsign\n"
      "certs` shows it, or a unique prefix).\n"
      "  --check          exit with the certificate's problem (expired, GOST-2001, ...)\n"
      "  --chain          build and check the chain to a trusted root, with revocation\n" },
    { "import",
      "Usage: gostsign import [--module PATH]... [--token LABEL] [--label NAME]\n"
      "                      [--password-file FILE] [--pinentry PROG] FILE.p12|.pfx\n\n"
      "Imports a GOST key and its certificate from a PKCS#12 file onto a token (the software\n"
      "token by default). The token is chosen and checked before the file's password or the\n"
      "token's PIN is asked.\n"
      "  --token LABEL    the token to import to (needed when several are present)\n"
      "  --label NAME     the label of the new objects\n"
      "  --password-file  read the PKCS#12 password from a file (else pinentry asks)\n" },
    { "digest", "Usage: gostsign digest [--bits 256|512] FILE|-\n\n"
                "Prints the GOST R 34.11-2012 (Streebog) digest of a file exactly as\n"
                "`openssl dgst -md_gost12_256` does.\n" },
    { "browser",
      "Usage: gostsign browser install|uninstall|status [--system] [--browser NAME]\n"
      "                        [--extension-id ID] [--firefox-id ID] [--host PATH] [--profile "
      "DIR]\n\n"
      "Registers gostsign-nmhost, the connector between the browser extension and the agent,\n"
      "with Chromium, Chrome, Yandex Browser and Firefox (native-messaging manifests).\n"
      "  install          write the manifests (--system: for all users, as root)\n"
      "  uninstall        remove them\n"
      "  status           checks every manifest (and the --profile ones installed):\n"
      "                   \"3 of 4 manifests fine\", naming the broken ones with the reason\n"
      "  --profile DIR    a Chromium-family --user-data-dir of its own; install remembers it\n"
      "                   for status and the doctor, uninstall --profile DIR forgets it\n" },
    { "doctor",
      "Usage: gostsign doctor [--json] [--test-sign [--cert ID]] [--report FILE] [--ca-dir DIR]\n"
      "                       [--module PATH]... [--no-p11-kit]\n\n"
      "Checks every layer, from the USB device and pcscd to the modules, certificates, agent\n"
      "and browsers, and says what is wrong and how to fix it. Exits 0 when all is well,\n"
      "90 with warnings, 91 with failures.\n"
      "  --test-sign      make a test signature through the agent (asks the PIN)\n"
      "  --report FILE    write a support bundle (no secrets)\n" },
    { "errors", "Usage: gostsign errors [--markdown]\n\n"
                "Lists every error code with its number (the exit status) and message.\n"
                "--markdown prints docs/errors.md (causes and fixes in English and Russian).\n" },
    { "paramsets", "Usage: gostsign paramsets\n\n"
                   "Lists the GOST R 34.10-2012 parameter sets and their OIDs.\n" },
};

bool cli_wants_help(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "-h") == 0)
        return true;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0)
            return true;
    }
    return false;
}

int cli_help(const char *command)
{
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
        if (strcmp(pages[i].name, command) == 0) {
            fputs(pages[i].page, stdout);
            printf("\n%s\n", cli_text("Подробнее: man gostsign", "See also: man gostsign"));
            return 0;
        }
    printf("Usage: gostsign %s\n", command);
    return 0;
}
