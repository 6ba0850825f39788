@route-protection
Feature: Route protection
  The middleware protects all routes except authentication pages and static assets. If the route isn't
  public and the user isn't authenticated, Clerk redirects to /auth/sign-in. If authenticated, the request
  proceeds normally.

  @RP-001
  Scenario Outline: A signed-out visitor opening a protected page is sent to sign in
    Given I am signed out
    When I open <page>
    Then I am sent to sign in, with a way back to <page>

    Examples:
      | page       |
      | /          |
      | /schedules |

  @RP-002
  Scenario Outline: A signed-out visitor fetching a protected API route is sent to sign in
    Given I am signed out
    When I fetch <method> <route>
    Then I am sent to sign in, with a way back to <route>
    And the API received no request

    Examples:
      | method | route               |
      | GET    | /api/schedules      |
      | POST   | /api/schedules      |
      | PUT    | /api/schedules/1    |
      | DELETE | /api/schedules/1    |
      | GET    | /api/auth/sign-out  |

  @RP-003
  Scenario Outline: A signed-out API request gets no data
    Given I am signed out
    When I fetch <method> <route>
    Then the response carries no API data
    And the API received no request

    Examples:
      | method | route            |
      | GET    | /api/schedules   |
      | POST   | /api/schedules   |
      | PUT    | /api/schedules/1 |
      | DELETE | /api/schedules/1 |

  @RP-004
  Scenario: A signed-in user opens a protected page
    Given I am signed in
    When I open /schedules
    Then I see the schedules page

  @RP-005
  Scenario Outline: A signed-in user calls each protected API route
    Given I am signed in
    When I fetch <method> <route>
    Then the response status is 200
    And the API received 1 <method> <downstream>, each with my bearer token

    Examples:
      | method | route            | downstream   |
      | GET    | /api/schedules   | /schedules   |
      | POST   | /api/schedules   | /schedules   |
      | PUT    | /api/schedules/7 | /schedules/7 |
      | DELETE | /api/schedules/7 | /schedules/7 |

  @RP-006
  Scenario Outline: Authentication pages are public
    Given I am signed out
    When I open <page>
    Then I am not sent to sign in
    And the response status is 200

    Examples:
      | page                     |
      | /auth/sign-in            |
      | /auth/sign-up            |
      | /auth/sign-in/factor-one |

  @RP-007
  Scenario Outline: Static assets are never redirected
    Given I am signed out
    When I open <asset>
    Then I am not sent to sign in
    And the response is not a redirect

    Examples:
      | asset                            |
      | /favicon.ico                     |
      | /robots.txt                      |
      | /sitemap.xml                     |
      | /_next/static/chunks/main.js     |
      | /_next/image?url=%2Flogo.png&w=64&q=75 |

  @RP-008
  Scenario: Every protected page in the target profile sends a signed-out visitor to sign in
    Given I am signed out
    Then every protected page in the profile sends me to sign in

  @RP-009
  Scenario: A route that merely contains "auth" is still protected
    Given I am signed out
    When I open /oauth-settings
    Then I am sent to sign in, with a way back to /oauth-settings

  @RP-010
  Scenario: A path that merely starts with /_next is still protected
    Given I am signed out
    When I open /_nextjs-admin
    Then I am sent to sign in, with a way back to /_nextjs-admin

  @RP-011
  Scenario: Next.js data routes are not excluded from protection
    Given I am signed out
    When I open /_next/data/build/schedules.json
    Then I am sent to sign in, with a way back to /_next/data/build/schedules.json
