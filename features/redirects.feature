@redirects
Feature: Redirects
  Unauthenticated users are redirected to the sign-in page, with a way back to where they were going.

  @RD-001
  Scenario: The sign-in redirect carries the original path and query
    Given I am signed out
    When I open the data page with the query week=42&view=list
    Then I am sent to sign in, with a way back to the data page with the query week=42&view=list

  @RD-002
  Scenario: Signing out lands on the sign-in page
    Given I am signed in
    When I sign out
    Then I land on the sign-in page

  @RD-003
  Scenario: A redirect_url to another host is not honoured
    Given I am signed out
    When I open the sign-in page with the query redirect_url=https%3A%2F%2Fevil.example%2Fsteal
    Then I am not sent to another host

  @RD-004
  Scenario: After signing in, the way back leads to the original page
    Given I am signed out
    When I open the data page with the query week=42
    Then I am sent to sign in, with a way back to the data page with the query week=42
    When I sign in and follow the way back
    Then the page shows the API's data
