# The dashboard's files, embedded into tallyd at build time (web/embed.cmake,
# net/dashboard.h). Included from daemon/CMakeLists.txt; adds the generated
# source to `target`. A file added to web/ is picked up at the next build
# (CONFIGURE_DEPENDS).
function(tally_embed_dashboard target)
  set(web_dir ${PROJECT_SOURCE_DIR}/web)
  file(GLOB_RECURSE web_files CONFIGURE_DEPENDS RELATIVE ${web_dir}
       ${web_dir}/*.html ${web_dir}/*.css ${web_dir}/*.js ${web_dir}/*.svg ${web_dir}/LICENSES.txt)
  list(SORT web_files)
  set(web_paths "")
  foreach(file IN LISTS web_files)
    list(APPEND web_paths ${web_dir}/${file})
  endforeach()
  # "|" between names: a ";" list would be split into several arguments.
  string(JOIN "|" file_list ${web_files})
  set(output ${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets.cc)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${web_dir} -DOUTPUT=${output} -DFILES=${file_list} -P ${web_dir}/embed.cmake
    DEPENDS ${web_paths} ${web_dir}/embed.cmake
    COMMENT "Embedding the dashboard (web/) into tallyd"
    VERBATIM)
  target_sources(${target} PRIVATE ${output})
endfunction()
