#pragma once
// Named, typed links between the parts of a model. A part publishes what it offers under a name
// ("ward_tension", "friendships", ...); another finds it by name and type. The framework connects
// them, so no part holds a pointer to another that someone else set by hand, and a link that is
// missing (its owner switched off) is visible as a null rather than a dangling default.
#include <map>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <typeinfo>

namespace contactsim {

class Links {
 public:
  // Publishes `value` under `name`; the publisher keeps ownership and must outlive every reader.
  // Throws std::logic_error when the name is taken (two parts offering one thing is a wiring bug).
  template <class T>
  void publish(const std::string& name, T& value) {
    // typeid ignores const: a value published const is found as const or not; readers that
    // only look take it as const.
    void* address = const_cast<void*>(static_cast<const void*>(&value));
    if (!links_.emplace(name, Link{std::type_index(typeid(T)), address}).second)
      throw std::logic_error("link \"" + name + "\" is published twice");
  }

  // The linked value, or null when nobody published it. Throws std::logic_error when it was
  // published with another type.
  template <class T>
  T* find(const std::string& name) const {
    const auto it = links_.find(name);
    if (it == links_.end()) return nullptr;
    if (it->second.type != std::type_index(typeid(T)))
      throw std::logic_error("link \"" + name + "\" has type " + it->second.type.name() + ", not " + typeid(T).name());
    return static_cast<T*>(it->second.value);
  }

  // The linked value; throws std::logic_error naming the link and who needs it when it is missing.
  template <class T>
  T& need(const std::string& name, const std::string& who) const {
    if (T* value = find<T>(name)) return *value;
    throw std::logic_error(who + " needs link \"" + name + "\", which nothing published");
  }

  bool has(const std::string& name) const { return links_.count(name) > 0; }

 private:
  struct Link {
    std::type_index type;
    void* value;
  };
  std::map<std::string, Link> links_;
};

}  // namespace contactsim
