// gostsign compatibility adapters, last file: removes the kit common.js lent to the adapters, so
// the page's own scripts find nothing of it.
'use strict';

delete window.__gostsignAdapterKit;
