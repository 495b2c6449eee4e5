# MF_SYSTEMD_UNITDIR
# ------------------
# --with-systemdunitdir=DIR: where `make install` puts modelfuse.service and
# modelfuse.timer; `no` installs none. By default the folder systemd's own
# pkg-config file names, moved under ${prefix} so that an install never
# leaves its prefix (a user's --prefix=$HOME/p, make distcheck); without
# systemd.pc, ${prefix}/lib/systemd/system. systemd reads both
# /usr/lib/systemd/system and /usr/local/lib/systemd/system, so the default
# is right for --prefix=/usr and /usr/local alike.
# Substitutes systemdunitdir; defines the conditional MF_INSTALL_UNITS.
AC_DEFUN([MF_SYSTEMD_UNITDIR], [
  AC_REQUIRE([PKG_PROG_PKG_CONFIG])
  AC_ARG_WITH([systemdunitdir],
    [AS_HELP_STRING([--with-systemdunitdir=DIR],
      [install the systemd service and timer into DIR, or `no' for none
       (default: systemd's unit folder under PREFIX)])],
    [], [with_systemdunitdir=auto])
  AS_CASE([$with_systemdunitdir],
    [auto|yes],
      [mf_unitdir=
       AS_IF([test -n "$PKG_CONFIG" && $PKG_CONFIG --exists systemd 2>/dev/null],
         [mf_unitdir=`$PKG_CONFIG --define-variable=prefix='${prefix}' \
            --define-variable=root_prefix='${prefix}' \
            --define-variable=rootprefix='${prefix}' \
            --variable=systemdsystemunitdir systemd 2>/dev/null`])
       dnl A systemd.pc with a hard-coded folder would take the install out
       dnl of the prefix: keep the usual layout under the prefix instead.
       AS_CASE([$mf_unitdir],
         ['${prefix}'/*], [],
         [mf_unitdir='${prefix}/lib/systemd/system'])
       with_systemdunitdir=$mf_unitdir],
    [no], [],
    [/*], [],
    [AC_MSG_ERROR([--with-systemdunitdir needs an absolute folder or `no', not $with_systemdunitdir])])
  AC_MSG_CHECKING([where to install the systemd units])
  AC_MSG_RESULT([$with_systemdunitdir])
  AC_SUBST([systemdunitdir], [$with_systemdunitdir])
  AM_CONDITIONAL([MF_INSTALL_UNITS], [test "x$with_systemdunitdir" != xno])
])
