"""A whoami service in the shape of JupyterHub's examples/service-whoami, run by hubd as a managed
service (its `command`). Everything it knows comes from the environment hubd gives it.

Routes, all under $JUPYTERHUB_SERVICE_PREFIX:
  api/whoami  HubAuth (token in the Authorization header): the caller's model, whoever it is;
              403 when hubd does not know the token
  api/access  HubAuth with the default access check ($JUPYTERHUB_OAUTH_ACCESS_SCOPES): the model,
              or 403 when the caller may not use this service
  (root)      HubOAuth: browsers are sent through hubd's OAuth flow, then get their model
  oauth_callback  HubOAuthCallbackHandler
  env         the JUPYTERHUB_* environment (token lengths only) and the names of all variables
"""
import os
import sys
from urllib.parse import urlparse

from jupyterhub.services.auth import (
    HubAuth,
    HubAuthenticated,
    HubOAuth,
    HubOAuthCallbackHandler,
    HubOAuthenticated,
)
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.web import Application, HTTPError, RequestHandler, authenticated


class WithAuth:
    def initialize(self, hub_auth):
        self.hub_auth = hub_auth


class WhoAmI(WithAuth, HubAuthenticated, RequestHandler):
    def check_hub_user(self, model):
        return model  # identify only: any caller hubd knows

    def get(self):
        user = self.get_current_user()
        if user is None:
            raise HTTPError(403)
        self.finish(user)


class Access(WithAuth, HubAuthenticated, RequestHandler):
    def get(self):
        user = self.get_current_user()  # None unless the model's scopes include an access scope
        if user is None:
            raise HTTPError(403)
        self.finish(user)


class BrowserWhoAmI(WithAuth, HubOAuthenticated, RequestHandler):
    @authenticated
    def get(self):
        self.finish(self.get_current_user())


class Callback(WithAuth, HubOAuthCallbackHandler):
    pass


class Env(RequestHandler):
    def get(self):
        env = {k: v for k, v in os.environ.items() if k.startswith(("JUPYTERHUB_", "JPY_"))}
        for secret in ("JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN"):
            if secret in env:
                env[secret] = f"<{len(env[secret])} characters>"
        self.finish({"env": env, "keys": sorted(os.environ), "pid": os.getpid(), "cwd": os.getcwd()})


def main():
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    # A 1 s cache (0 would mean forever): a test changes roles and expects to see it soon after.
    token_auth = HubAuth(cache_max_age=1)
    oauth = HubOAuth(cache_max_age=1)
    app = Application(
        [
            (prefix + "api/whoami", WhoAmI, {"hub_auth": token_auth}),
            (prefix + "api/access", Access, {"hub_auth": token_auth}),
            (prefix + "oauth_callback", Callback, {"hub_auth": oauth}),
            (prefix + "env", Env),
            (prefix, BrowserWhoAmI, {"hub_auth": oauth}),
        ],
        cookie_secret=os.urandom(32),
    )
    HTTPServer(app).listen(url.port, url.hostname)
    print(f"whoami service listening on {url.hostname}:{url.port}{prefix}", flush=True)
    print("whoami service stderr check", file=sys.stderr, flush=True)
    IOLoop.current().start()


if __name__ == "__main__":
    main()
