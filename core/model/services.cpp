// The model's services aggregate. Services.
#include "core/model/mutation.hpp"

namespace hubd::core::model {

using namespace detail;

service_ptr hub_model::find_service(std::string_view name) const {
  std::shared_lock lock(mutex_);
  return find_in(state_->services, name);
}

std::vector<service_ptr> hub_model::list_services() const {
  std::shared_lock lock(mutex_);
  return values_sorted(state_->services, &service::name);
}

result<service_ptr> hub_model::put_service(service sv, completion done) {
  if (auto e = check_name("service", sv.name)) return *e;
  if (auto e = check_json_object("service info", sv.info)) return *e;
  return mutate<service_ptr>(std::move(done), [&](tx& t) -> result<service_ptr> {
    auto cur = find_in(t.s.services, sv.name);
    sv.id = cur ? cur->id : t.s.next_service++;
    if (!cur) sv.created = now();
    else sv.created = cur->created;
    auto p = t.row(std::move(sv));
    t.s.put_service(p);
    if (!cur || cur->admin != p->admin) t.perm = true;
    return p;
  });
}

status hub_model::delete_service(std::string_view name, completion done) {
  return mutate<void>(std::move(done), [&](tx& t) -> status {
    auto sv = find_in(t.s.services, name);
    if (!sv) return not_found("service " + std::string(name) + " not found");
    t.erase_service(*sv);
    return {};
  });
}

}  // namespace hubd::core::model
