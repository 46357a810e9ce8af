/* hubd plugin ABI v1: everything a plugin author includes. See docs/plugins.md. */
#ifndef HUBD_PLUGIN_H
#define HUBD_PLUGIN_H

#include "hubd/abi.h"
#include "hubd/authenticator.h"
#include "hubd/hooks.h"
#include "hubd/host_api.h"
#include "hubd/spawner.h"

#endif /* HUBD_PLUGIN_H */
