# MODELFUSE_PLUGIN_SDK([ACTION-IF-FOUND], [ACTION-IF-NOT-FOUND])
# ---------------------------------------------------------------
# For third-party plugins built with autoconf: finds the modelfuse plugin
# SDK through pkg-config, substitutes MODELFUSE_PLUGIN_CFLAGS and
# modelfuse_plugindir (where `make install` should put the .so).
AC_DEFUN([MODELFUSE_PLUGIN_SDK], [
  PKG_CHECK_MODULES([MODELFUSE_PLUGIN], [modelfuse-plugin >= 0.1],
    [PKG_CHECK_VAR([modelfuse_plugindir], [modelfuse-plugin], [plugindir])
     $1],
    [m4_default([$2], [AC_MSG_ERROR([modelfuse plugin SDK not found: install modelfuse or set PKG_CONFIG_PATH])])])
  AC_SUBST([modelfuse_plugindir])
])
