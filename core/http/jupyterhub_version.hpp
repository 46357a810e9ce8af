#pragma once
// The JupyterHub release whose REST API and single-user contract hubd implements. Clients branch on
// it (jupyterhub-idle-culler uses `?state=` filters from 1.3 on, jupyterhub-singleuser warns when its
// major.minor differs), so it is what X-JupyterHub-Version and GET /hub/api/ "version" carry; hubd's
// own version travels separately ("hubd_version"). Raise it only with the features of that release.
#include <string_view>

namespace hubd::core::http {

inline constexpr std::string_view jupyterhub_api_version = "5.4.0";

}  // namespace hubd::core::http
