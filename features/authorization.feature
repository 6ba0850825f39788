@authorization
Feature: Authorization: organization roles, permissions and machine tokens
  Past "signed in or not", Clerk apps let organization roles and permissions decide (auth.protect({ role }),
  auth.protect({ permission }), has()), read from the session token's organization claim; and they let other
  services in with machine tokens (auth.protect({ token: "m2m_token" })). Every session token carries the
  user's current role, so a changed role takes effect once the token is refreshed, within one lifetime.
  Plans (Clerk Billing) work the same way: the session token's pla claim names the user's plan, which
  has({ plan }) reads. The profile's [authorization] section names the admin page, the route that needs a
  permission (and which one), the machine route, the route for the plan pro, and how the app refuses a
  signed-in user who lacks the right.

  @AZ-001
  Scenario: An organization admin opens the admin page
    Given I am signed in as an admin of organization acme
    When I open the admin page
    Then the response status is 200
    And the response shows my organization

  @AZ-002
  Scenario: A member without the admin role is refused the admin page
    Given I am signed in as a member of organization acme
    When I open the admin page
    Then I am refused for lacking the right
    And I was not sent to sign in

  @AZ-003
  Scenario: A user with no active organization is refused the admin page
    Given I am signed in
    When I open the admin page
    Then I am refused for lacking the right

  @AZ-004
  Scenario: The organization claim survives the token refresh
    Given I am signed in as an admin of organization acme
    When 120 seconds pass
    And I open the admin page
    Then my session token was refreshed
    And the response status is 200
    And the response shows my organization

  @AZ-005
  Scenario: A role taken away at Clerk is refused once the token is refreshed
    Given I am signed in as an admin of organization acme
    When I open the admin page
    Then the response status is 200
    When my role in organization acme becomes org:member
    And 120 seconds pass
    And I open the admin page
    Then my session token was refreshed
    And I am refused for lacking the right

  @AZ-101
  Scenario: A member with the route's permission gets the data
    Given I am signed in as a member of organization acme with the route's permission
    When I fetch the permission route
    Then the response status is 200
    And the response shows my organization

  @AZ-102
  Scenario: A member without the route's permission is refused
    Given I am signed in as a member of organization acme
    When I fetch the permission route
    Then I am refused for lacking the right

  @AZ-301 @plan
  Scenario: A subscriber of the plan pro gets the plan's data
    Given I am signed in on plan pro
    When I fetch the plan route
    Then the response status is 200

  @AZ-302 @plan
  Scenario: A user on another plan is refused the plan's data
    Given I am signed in on plan free
    When I fetch the plan route
    Then I am refused for lacking the right

  @AZ-201 @machine
  Scenario Outline: A service with a machine token calls the machine route (<form> token)
    Given a service holds an <form> machine token
    When the service calls the machine route with its token
    Then the response status is 200
    And the response names the service's machine

    Examples:
      | form   |
      | opaque |
      | JWT    |

  @AZ-202 @machine
  Scenario: A revoked machine token is refused
    Given a service holds an opaque machine token
    And the machine token is revoked at Clerk
    When the service calls the machine route with its token
    Then the call is refused as unauthorized

  # A route that takes session tokens sees a machine token as no session at all: @clerk/backend's
  # getAuthObjectForAcceptedToken turns an auth object of a type the route does not accept into a signed-out one
  # (@clerk/backend 3.25 dist/internal.js), so the call is answered like a signed-out one.
  @AZ-203 @machine
  Scenario: A machine token is refused on a route for users, like a signed-out call
    Given a service holds an opaque machine token
    When the service calls the permission route with its token
    Then the call is refused as the profile says for a signed-out non-page request

  @AZ-204 @machine
  Scenario: A signed-in user is refused on the machine route
    Given I am signed in
    When I fetch the machine route
    Then the call is refused as unauthorized
