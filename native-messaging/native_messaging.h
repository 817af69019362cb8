/*
 * native-messaging/: the public face of the browser bridge for the other folders. The gostsign
 * command registers the host with the browsers (`gostsign browser`) and the doctor checks those
 * registrations; both need only the names below. The host's own decisions are in nmhost.h,
 * private to this folder.
 */
#ifndef GOSTSIGN_NATIVE_MESSAGING_H
#define GOSTSIGN_NATIVE_MESSAGING_H

/* Native-messaging host name, as the manifests and chrome.runtime.connectNative() spell it. */
#define NM_HOST_NAME "ru.gostsign.nmhost"

/* The project's own extension: its stable Chromium ID (from the manifest `key`) and Gecko ID. */
#define NM_CHROMIUM_EXTENSION_ID "eheonckkicighmijehmciaofenagbejk"
#define NM_FIREFOX_EXTENSION_ID  "gostsign@gostsign.ru"

#endif
