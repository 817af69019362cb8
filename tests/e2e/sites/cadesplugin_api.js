// Stand-in for CryptoPro's loader cadesplugin_api.js, written for the test (not CryptoPro's file):
// it starts as the real loader does, `if (window.cadesplugin) return;`, so a plugin that defined
// window.cadesplugin first is used as it is. Otherwise the real loader would inject CryptoPro's
// own extension script and wait for it; here nothing comes, and after the load timeout the
// promise fails the way the real one does when no plugin is installed.
;(function () {
  if (window.cadesplugin) return;
  var timeout = window.cadesplugin_load_timeout || 20000;
  var plugin = new Promise(function (resolve, reject) {
    setTimeout(function () {
      reject(new Error('Плагин недоступен'));
    }, timeout);
  });
  plugin.loaderStub = true;
  window.cadesplugin = plugin;
})();
