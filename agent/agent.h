/*
 * agent/: the public face of the agent for the other programs (the gostsign command, its doctor,
 * gostsign-nmhost), as ssh-agent's authfd.h serves ssh-add.
 *
 * Other folders include only this header. It gathers the protocol both ends share (framing and
 * replies in frame.h, binary fields in base64.h, the client in agent_client.h) and the pieces a
 * local admin command uses the same way the daemon does: configuration (config.h), the origin
 * allow-list (origin.h), the PIN dialog over Assuan (pinentry.h), locked memory for secrets
 * (secmem.h) and the audit log (audit.h). The daemon's own internals (daemon.h and the headers
 * it includes) stay private.
 */
#ifndef GOSTSIGN_AGENT_H
#define GOSTSIGN_AGENT_H

#include "frame.h"
#include "base64.h"
#include "agent_client.h"
#include "config.h"
#include "origin.h"
#include "pinentry.h"
#include "secmem.h"
#include "audit.h"
#include "protocol.h"

#endif
