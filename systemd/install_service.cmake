# Run by `cmake --install` (component service; see CMakeLists.txt here), with
# CMAKE_INSTALL_PREFIX the prefix of this install and the TALLY_SERVICE_*
# locations set. Writes the two files that name installed paths, configured
# for this prefix, straight to their place (under DESTDIR when it is set): no
# copy is staged in the build tree, which may belong to another user than the
# one installing.

# `dir` under the prefix unless it is absolute already.
function(tally_install_path out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

# configure_file of `template` to `dir`/`name`, reported and recorded in
# install_manifest.txt like the files install() copies.
function(tally_install_configured template dir name)
  set(target "$ENV{DESTDIR}${dir}/${name}")
  message(STATUS "Installing: ${target}")
  file(MAKE_DIRECTORY "$ENV{DESTDIR}${dir}")
  configure_file("${TALLY_SERVICE_SOURCE_DIR}/${template}" "${target}" @ONLY NO_SOURCE_PERMISSIONS)
  # Without DESTDIR, as install() records its files.
  set(CMAKE_INSTALL_MANIFEST_FILES ${CMAKE_INSTALL_MANIFEST_FILES} "${dir}/${name}" PARENT_SCOPE)
endfunction()

tally_install_path(TALLY_BINDIR_FULL "${TALLY_SERVICE_BINDIR}")
tally_install_path(TALLY_DOCDIR_FULL "${TALLY_SERVICE_DOCDIR}")
tally_install_path(TALLY_UNITDIR_FULL "${TALLY_SERVICE_UNITDIR}")
tally_install_path(TALLY_TMPFILESDIR_FULL "${TALLY_SERVICE_TMPFILESDIR}")

set(TALLYD_PATH "${TALLY_BINDIR_FULL}/tallyd")
set(TALLY_EXAMPLE_CONFIG "${TALLY_DOCDIR_FULL}/tally.toml")
tally_install_configured(tallyd.service.in "${TALLY_UNITDIR_FULL}" tallyd.service)
tally_install_configured(tally.tmpfiles.conf.in "${TALLY_TMPFILESDIR_FULL}" tally.conf)
